/**
 * Scratch detection needs the face at full resolution: on a 64 px model crop a scratch is sub-pixel. The aligned
 * crop is redrawn from the original photo at the face's size there (at most DETECT_MAX_SIDE, at least the crop's),
 * and the detected mask is brought back to the crop's size.
 */
import type { Affine, RgbaImage } from '../../../workers/api';
import { makeCanvas } from '../../canvas/canvas';
import { invertAffine } from '../upload/image-math';
import type { MaskBuffer } from './maskOps';
import { createMask } from './maskOps';

/** The detector is tuned at 512 px; larger faces are detected at 512 (thin scratches stay 2-3 px wide there). */
export const DETECT_MAX_SIDE = 512;

/** Side of the detection image: the face's size in the original photo, capped at 512, never below the crop's side. */
export function detectionSide(cropToOriginal: Affine, cropSide: number): number {
  const scale = Math.hypot(cropToOriginal[0], cropToOriginal[3]);
  return Math.max(cropSide, Math.min(DETECT_MAX_SIDE, Math.round(cropSide * scale)));
}

/** The canvas transform (original photo -> detection image) for a crop -> original affine at `side` px. */
export function originalToDetection(cropToOriginal: Affine, cropSide: number, side: number): Affine {
  const t = invertAffine(cropToOriginal); // original -> crop
  const k = side / cropSide;
  return [t[0] * k, t[1] * k, t[2] * k, t[3] * k, t[4] * k, t[5] * k];
}

/** The aligned crop drawn from the original photo at `side` x `side` (browser smoothing, high quality). */
export function alignedCropAt(bitmap: ImageBitmap, cropToOriginal: Affine, cropSide: number, side: number): RgbaImage {
  const { ctx } = makeCanvas(side, side);
  const m = originalToDetection(cropToOriginal, cropSide, side);
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
 * least a quarter of its footprint is (a 3 px scratch at 512 px covers 3/8 of a 64 px crop pixel: kept).
 */
export function maskFromDetection(src: RgbaImage, width: number, height: number): MaskBuffer {
  const out = createMask(width, height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      const y0 = Math.floor(y * sy);
      const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
      let on = 0;
      let n = 0;
      for (let yy = y0; yy < y1 && yy < src.height; yy++)
        for (let xx = x0; xx < x1 && xx < src.width; xx++) {
          n++;
          if ((src.data[(yy * src.width + xx) * 4] as number) > 0) on++;
        }
      out.data[y * width + x] = n > 0 && on * 4 >= n ? 1 : 0;
    }
  return out;
}
