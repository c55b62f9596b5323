/**
 * Is this photo already an aligned face crop in the model's framing? A 512x512 FFHQ crop given to a 512 FFHQ
 * model should be used as it is, not detected and re-cropped (the detector's points scatter by a few percent of
 * the crop, so a re-crop shifts and rescales the face a little, and a mask made for the photo no longer fits).
 *
 * The test: the photo is square (within `maxAspectError`), exactly one face is found, and its five points, taken
 * into the model's crop by the same centred-square scaling the "already a cropped face" switch uses, lie on the
 * model's template: their mean distance to the template points is below `threshold` (a fraction of the crop's
 * side), and the re-crop they would ask for (the least-squares similarity onto the template) neither rescales
 * the face by more than `maxScaleError` nor turns it by more than `maxAngle` degrees (mean distance alone lets
 * through a face 30% smaller or turned 10 degrees). Thresholds measured with tools/faces/measure-aligned.ts
 * (workers/faces/README.md, "Already aligned crops").
 */
import type { DetectedFace } from '../api';
import { affineScale, applyAffine, similarityTransform } from './alignment';
import type { Point } from './templates';

/** Mean landmark distance (fraction of the crop's side) below which a crop counts as aligned. */
export const ALIGNED_THRESHOLD = 0.06;
/** How much a re-crop from the detected points may rescale the face (|scale - 1|) and still count as aligned. */
export const ALIGNED_MAX_SCALE_ERROR = 0.15;
/** How much a re-crop may turn the face, degrees. */
export const ALIGNED_MAX_ANGLE = 5;
/** How far from square (|w/h - 1|) a photo may be and still count as a crop. */
export const ALIGNED_MAX_ASPECT_ERROR = 0.02;

export interface AlignmentCheck {
  /** the decision */
  aligned: boolean;
  /** mean distance of the five points to the template, as a fraction of the crop's side (NaN when not measured) */
  distance: number;
  /**
   * what a re-crop from these points would do to the frame: the largest move of a crop corner (fraction of the
   * side) and the scale change (1 = same size); NaN when not measured
   */
  cornerShift: number;
  scale: number;
  /** and its turn, degrees (NaN when not measured) */
  angle: number;
  /** why not, in words (for logs and tests) */
  reason: string;
}

/**
 * The five points in the model's crop pixels when the whole photo's centred square is scaled to `size` (pixel
 * centres kept: (p + 0.5) * k - 0.5), as the "already cropped" path crops it.
 */
export function landmarksInCrop(landmarks: readonly (readonly [number, number])[], width: number, height: number, size: number): Point[] {
  const side = Math.min(width, height);
  const x0 = (width - side) / 2;
  const y0 = (height - side) / 2;
  const k = size / side;
  return landmarks.map(([x, y]) => [(x - x0 + 0.5) * k - 0.5, (y - y0 + 0.5) * k - 0.5]);
}

/** Mean point-to-point distance between five points and the template, as a fraction of `size`. */
export function templateDistance(points: readonly Point[], template: readonly Point[], size: number): number {
  if (points.length !== template.length || points.length === 0) throw new Error('templateDistance: need the same number of points');
  let sum = 0;
  points.forEach(([x, y], i) => {
    sum += Math.hypot(x - template[i]![0], y - template[i]![1]);
  });
  return sum / points.length / size;
}

/**
 * Decide whether a photo whose faces were just detected is already an aligned crop for a model with `template`
 * at `size` x `size`.
 */
export function checkAlreadyAligned(
  faces: readonly Pick<DetectedFace, 'landmarks'>[],
  width: number,
  height: number,
  template: readonly Point[],
  size: number,
  options: { threshold?: number; maxAspectError?: number; maxScaleError?: number; maxAngle?: number } = {},
): AlignmentCheck {
  const threshold = options.threshold ?? ALIGNED_THRESHOLD;
  const maxScale = options.maxScaleError ?? ALIGNED_MAX_SCALE_ERROR;
  const maxAngle = options.maxAngle ?? ALIGNED_MAX_ANGLE;
  const maxAspect = options.maxAspectError ?? ALIGNED_MAX_ASPECT_ERROR;
  const no = (reason: string, distance = NaN, cornerShift = NaN, scale = NaN, angle = NaN): AlignmentCheck => ({
    aligned: false,
    distance,
    cornerShift,
    scale,
    angle,
    reason,
  });
  if (!(width > 0 && height > 0)) return no('empty photo');
  if (Math.abs(width / height - 1) > maxAspect) return no(`not square (${width}x${height})`);
  if (faces.length !== 1) return no(`${faces.length} faces`);
  const pts = landmarksInCrop(faces[0]!.landmarks, width, height, size);
  const distance = templateDistance(pts, template, size);
  // the re-crop the detector would make: crop -> re-aligned crop
  const t = similarityTransform(pts, template);
  const corners: Point[] = [
    [-0.5, -0.5],
    [size - 0.5, -0.5],
    [-0.5, size - 0.5],
    [size - 0.5, size - 0.5],
  ];
  const cornerShift =
    Math.max(
      ...corners.map(([x, y]) => {
        const [u, v] = applyAffine(t, x, y);
        return Math.hypot(u - x, v - y);
      }),
    ) / size;
  const scale = affineScale(t);
  const angle = (Math.atan2(t[3], t[0]) * 180) / Math.PI;
  const measured = [distance, cornerShift, scale, angle] as const;
  if (!(distance < threshold)) return no(`points ${distance.toFixed(3)} of the side from the template (limit ${threshold})`, ...measured);
  if (!(Math.abs(scale - 1) < maxScale))
    return no(`a re-crop would scale the face by ${scale.toFixed(2)} (limit ±${maxScale})`, ...measured);
  if (!(Math.abs(angle) < maxAngle)) return no(`a re-crop would turn the face by ${angle.toFixed(1)}° (limit ±${maxAngle}°)`, ...measured);
  return { aligned: true, distance, cornerShift, scale, angle, reason: `points ${distance.toFixed(3)} of the side from the template` };
}
