/**
 * Scratch detection needs the face at full resolution: on a 64 px model crop a scratch is sub-pixel. The aligned
 * crop is redrawn from the original photo at the face's size there (at most DETECT_MAX_SIDE, at least the crop's),
 * and the detected mask is brought back to the crop's size.
 */
import type { Affine, RgbaImage } from '../../../workers/api';
import { makeCanvas } from '../../canvas/canvas';
import { centresToCorners, composeAffine, resizeCentres } from '../../../workers/faces/alignment';
import { cropToWorkingCentres, invertAffine, toOriginalPixels } from '../upload/image-math';
import type { MaskBuffer } from './maskOps';
import { createMask } from './maskOps';

/** The detector is tuned at 512 px; larger faces are detected at 512 (thin scratches stay 2-3 px wide there). */
export const DETECT_MAX_SIDE = 512;

/** Side of the detection image: the face's size in the original photo, capped at 512, never below the crop's side. */
export function detectionSide(cropToOriginal: Affine, cropSide: number): number {
  const scale = Math.hypot(cropToOriginal[0], cropToOriginal[3]);
  return Math.max(cropSide, Math.min(DETECT_MAX_SIDE, Math.round(cropSide * scale)));
}

/**
 * The canvas transform (original photo -> detection image) for a crop -> original affine at `side` px.
 * `cropToOriginal` maps pixel centres (workers/faces/alignment.ts); the detection image is the crop's frame
 * side / cropSide times as large (resizeCentres), and the canvas reads the result in pixel corners.
 */
export function originalToDetection(cropToOriginal: Affine, cropSide: number, side: number): Affine {
  const toCrop = invertAffine(cropToOriginal); // original -> crop, centres
  return centresToCorners(composeAffine(resizeCentres(side / cropSide), toCrop));
}

/**
 * Where scratch detection looks for a face crop of `cropSide` px: the detection image's side and the canvas
 * transform that draws it from the original photo (working = original * scale), or undefined when the face is no
 * larger in the original than the crop (detect on the crop itself).
 */
export function detectionGeometry(
  crop: { faceIndex: number; aligned: { inverse: Affine } },
  scale: number,
  cropSide: number,
): { side: number; toDetection: Affine } | undefined {
  const toOriginal = toOriginalPixels(cropToWorkingCentres(crop), scale);
  const side = detectionSide(toOriginal, cropSide);
  return side > cropSide ? { side, toDetection: originalToDetection(toOriginal, cropSide, side) } : undefined;
}

/** The aligned crop drawn from the original photo at `side` x `side` with detectionGeometry's canvas transform. */
export function alignedCropAt(bitmap: ImageBitmap, m: Affine, side: number): RgbaImage {
  const { ctx } = makeCanvas(side, side);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  // canvas order: a (x scale), b (y skew), c (x skew), d (y scale), e, f
  ctx.setTransform(m[0], m[3], m[1], m[4], m[2], m[5]);
  ctx.drawImage(bitmap, 0, 0);
  const d = ctx.getImageData(0, 0, side, side);
  return { width: side, height: side, data: d.data };
}

/**
 * A detection mask (white = scratch, any size) brought to width x height by area: a crop pixel is marked when at
 * least a quarter of its footprint is (a 3 px scratch at 512 px covers 3/8 of a 64 px crop pixel: kept). The
 * footprint is exact, fractional detection pixels included: crop pixel x covers [x * sx, (x + 1) * sx] of the
 * detection image's extent (the same frame, resizeCentres), so a side that is no multiple of the crop's does not
 * shift the mask.
 */
export function maskFromDetection(src: RgbaImage, width: number, height: number): MaskBuffer {
  const out = createMask(width, height);
  const sx = src.width / width;
  const sy = src.height / height;
  // detection pixels' overlap with one crop pixel's [lo, hi] along an axis: [first index, weights...]
  const spans = (n: number, s: number, limit: number) =>
    Array.from({ length: n }, (_, i) => {
      const lo = i * s;
      const hi = Math.min(limit, (i + 1) * s);
      const first = Math.floor(lo);
      const w: number[] = [];
      for (let p = first; p < hi; p++) w.push(Math.min(hi, p + 1) - Math.max(lo, p));
      return { first, w };
    });
  const xs = spans(width, sx, src.width);
  const ys = spans(height, sy, src.height);
  for (let y = 0; y < height; y++) {
    const ry = ys[y]!;
    for (let x = 0; x < width; x++) {
      const rx = xs[x]!;
      let on = 0;
      let area = 0;
      for (let j = 0; j < ry.w.length; j++)
        for (let i = 0; i < rx.w.length; i++) {
          const a = ry.w[j]! * rx.w[i]!;
          area += a;
          if ((src.data[((ry.first + j) * src.width + rx.first + i) * 4] as number) > 0) on += a;
        }
      out.data[y * width + x] = area > 0 && on * 4 >= area * (1 - 1e-9) ? 1 : 0;
    }
  }
  return out;
}
