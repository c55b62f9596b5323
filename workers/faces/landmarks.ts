/**
 * Optional landmark refinement with the MediaPipe face mesh (468 points; from the same npm
 * package as BlazeFace, converted by tools/faces/convert.sh). BlazeFace's own keypoints are
 * coarse and have no mouth corners; the mesh has real eye contours, nose tip and mouth corners.
 * Pure TS: the ONNX session is behind the same runner type as the detector.
 *
 * Mesh model: input (1,192,192,3) NHWC RGB in [0,1], a face crop that is upright and about
 * 3.6 eye distances wide; outputs (1,1404) = 468 x (x, y, z) in crop pixels, (1,1) face flag
 * (sigmoid), (1,266) contours (unused).
 */
import type { Affine, DetectedFace, RgbaImage } from '../api';
import { applyAffine, invertAffine, warpAffine } from './alignment';
import type { DetectorRunner, RunnerTensor } from './detector';
import type { Point } from './templates';

export const MESH_INPUT = 192;
/** crop width in eye distances (the mesh degrades when the crop is tighter, e.g. 2.4) */
export const MESH_CROP_EYE_DISTANCES = 3.6;

/**
 * Mesh indices (MediaPipe canonical face mesh). "Right" is the person's right = image left.
 * Nose: index 4 (just above the tip) matches the template's nose better than the tip (1): mean
 * error 13.1 vs 20.9 px on the calibration crops (testdata grayscale_faces + ref_faces), 13.6 vs
 * 15.9 px on cropped_faces + old_photos/med. Eye-ring centres and mouth corners 61/291 were within
 * 1 px of the best single mesh points on both sets, so they are kept.
 */
export const MESH_INDEX = {
  rightEyeRing: [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
  leftEyeRing: [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
  noseTip: 4,
  mouthRight: 61,
  mouthLeft: 291,
} as const;

/** Similarity photo -> mesh crop: upright (eye line horizontal), centred between eyes and mouth. */
export function meshCropTransform(five: readonly Point[]): Affine {
  const [le, re, , lm, rm] = five as [Point, Point, Point, Point, Point];
  const ex = (le[0] + re[0]) / 2;
  const ey = (le[1] + re[1]) / 2;
  const mx = (lm[0] + rm[0]) / 2;
  const my = (lm[1] + rm[1]) / 2;
  const cx = (ex + mx) / 2;
  const cy = (ey + my) / 2;
  const dx = re[0] - le[0];
  const dy = re[1] - le[1];
  const d = Math.hypot(dx, dy) || 1;
  const s = MESH_INPUT / (MESH_CROP_EYE_DISTANCES * d);
  const cos = (dx / d) * s;
  const sin = (-dy / d) * s; // rotate by -angle so the eye line becomes horizontal
  // x' = cos*x - sin*y + tx, y' = sin*x + cos*y + ty, with the centre going to the crop centre
  const c0 = MESH_INPUT / 2 - 0.5;
  return [cos, -sin, c0 - (cos * cx - sin * cy), sin, cos, c0 - (sin * cx + cos * cy)];
}

function meshOutputs(outputs: Record<string, RunnerTensor>): { mesh: Float32Array; flag: number } {
  const ts = Object.values(outputs);
  const mesh = ts.find((t) => t.data.length === 468 * 3);
  const flag = ts.find((t) => t.data.length === 1);
  if (!mesh) throw new Error('face mesh: no output with 1404 values');
  return { mesh: mesh.data, flag: flag ? flag.data[0]! : 1 };
}

export interface RefinedLandmarks {
  landmarks: [number, number][];
  /** the mesh model's face flag (0..1) */
  confidence: number;
}

/** Five points from a 468-point mesh (x, y per point at stride 3), mapped by `toPhoto`. */
export function fivePointsFromMesh(mesh: Float32Array, toPhoto: Affine): [number, number][] {
  const pt = (k: number): [number, number] => applyAffine(toPhoto, mesh[3 * k]!, mesh[3 * k + 1]!);
  const ring = (idx: readonly number[]): [number, number] => {
    let x = 0;
    let y = 0;
    for (const k of idx) {
      const p = pt(k);
      x += p[0];
      y += p[1];
    }
    return [x / idx.length, y / idx.length];
  };
  return [
    ring(MESH_INDEX.rightEyeRing),
    ring(MESH_INDEX.leftEyeRing),
    pt(MESH_INDEX.noseTip),
    pt(MESH_INDEX.mouthRight),
    pt(MESH_INDEX.mouthLeft),
  ];
}

/**
 * Refine a detected face's five points with the mesh model: crop around the current points,
 * run the mesh, take eye-ring centres, nose tip and mouth corners; `passes` times (the second
 * pass crops around the refined points).
 */
export async function refineLandmarks(
  photo: RgbaImage,
  face: Pick<DetectedFace, 'landmarks'>,
  run: DetectorRunner,
  passes = 2,
): Promise<RefinedLandmarks> {
  let five = face.landmarks as [number, number][];
  let confidence = 0;
  for (let p = 0; p < passes; p++) {
    const toCrop = meshCropTransform(five);
    const crop = warpAffine(photo, toCrop, MESH_INPUT, MESH_INPUT, { edge: 'clamp' });
    const input = new Float32Array(MESH_INPUT * MESH_INPUT * 3);
    for (let i = 0; i < MESH_INPUT * MESH_INPUT; i++) {
      input[i * 3] = crop.data[i * 4]! / 255;
      input[i * 3 + 1] = crop.data[i * 4 + 1]! / 255;
      input[i * 3 + 2] = crop.data[i * 4 + 2]! / 255;
    }
    const { mesh, flag } = meshOutputs(await run(input, [1, MESH_INPUT, MESH_INPUT, 3]));
    confidence = flag;
    five = fivePointsFromMesh(mesh, invertAffine(toCrop));
  }
  return { landmarks: five, confidence };
}

/** Refine every face; faces whose mesh confidence is below minConfidence keep BlazeFace's points. */
export async function refineFaces(
  photo: RgbaImage,
  faces: DetectedFace[],
  run: DetectorRunner,
  minConfidence = 0.5,
): Promise<DetectedFace[]> {
  const out: DetectedFace[] = [];
  for (const f of faces) {
    const r = await refineLandmarks(photo, f, run);
    out.push(r.confidence >= minConfidence ? { ...f, landmarks: r.landmarks } : f);
  }
  return out;
}
