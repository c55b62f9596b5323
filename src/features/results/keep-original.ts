/**
 * "Keep my photo exactly as it is outside the mask" at the size the person downloads. The engine keeps the photo's
 * pixels outside the mask at the MODEL's resolution; a face enlarged to its size in the original photo, and the
 * full photo with the faces pasted back, are made from that model output, so outside the mask they would be the
 * enlarged (resampled) output. These put the ORIGINAL photo's pixels back there, with the engine's feathered blend
 * (workers/engine/image.ts: 0 outside the mask, ramping to the result over `featherFor` pixels inside it, toward
 * the colour of the nearest kept pixel). Pure: no DOM, no worker.
 */
import type { Affine, RgbaImage } from '../../../workers/api';
import { blendOutsideMask, featherFor } from '../../../workers/engine/image';
import { applyAffine, featherWeight, invertAffine, warpAffine } from '../../../workers/faces/alignment';
import { scaleCropInverse } from '../../../workers/upscaler/geometry';

/**
 * A face's crop -> ORIGINAL-photo transform with pixel centres at whole coordinates (pixel i at coordinate i), the
 * convention warpAffine and pasteBack read, from what the run recorded: `inverse` maps crop pixels to working-photo
 * pixels (working = original * scale). The record holds two conventions: a detected face's crop is made by the
 * worker's warpAffine, so its `inverse` is already in pixel centres; the whole photo as the face ("already a cropped
 * face", faceIndex -1) is drawn by the canvas from the centred square (centerSquareTransform), so its `inverse` maps
 * pixel CORNERS (crop pixel u spans [u, u + 1]). Read as centres, that one is off by (k - 1) / 2 photo pixels at
 * k photo pixels per crop pixel (3.5 for a 64 px crop of a 512 px photo): the pasted face and the kept photo would
 * sit shifted. The working -> original step is a scale of corners too: (x + 0.5) / scale - 0.5 for centres.
 */
export function cropToOriginalCentres(inverse: Affine, scale: number, corners: boolean): Affine {
  const k = 1 / scale;
  const [a, b, c, d, e, f] = inverse;
  if (corners) {
    // corners: P(u) = C(u + 0.5) - 0.5, with C = inverse / scale
    return [a * k, b * k, (a * 0.5 + b * 0.5 + c) * k - 0.5, d * k, e * k, (d * 0.5 + e * 0.5 + f) * k - 0.5];
  }
  // centres in the working copy: (P_w(u) + 0.5) / scale - 0.5
  return [a * k, b * k, (c + 0.5) * k - 0.5, d * k, e * k, (f + 0.5) * k - 0.5];
}

/** Whether mask pixel i is missing (white = missing: any of R, G, B > 0, as the engine reads masks). */
function missingAt(mask: RgbaImage, i: number): boolean {
  const d = mask.data;
  return (d[i * 4] as number) > 0 || (d[i * 4 + 1] as number) > 0 || (d[i * 4 + 2] as number) > 0;
}

/**
 * A mask painted in a crop's frame (at the model's resolution) at width x height of the same frame, nearest
 * neighbour on pixel centres: output pixel x reads mask pixel floor((x + 0.5) * mask.width / width). An 8x larger
 * mask turns each pixel into an 8x8 block; the mask stays binary, as the blend needs.
 */
export function resizeMaskNearest(mask: RgbaImage, width: number, height: number): RgbaImage {
  if (mask.width === width && mask.height === height) return mask;
  const out = new Uint8ClampedArray(width * height * 4);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width));
  for (let y = 0; y < height; y++) {
    const my = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height));
    for (let x = 0; x < width; x++) {
      const s = (my * mask.width + (xs[x] as number)) * 4;
      const o = (y * width + x) * 4;
      out[o] = mask.data[s] as number;
      out[o + 1] = mask.data[s + 1] as number;
      out[o + 2] = mask.data[s + 2] as number;
      out[o + 3] = 255;
    }
  }
  return { width, height, data: out };
}

/**
 * The original photo in a crop's frame at side x side: `cropInverse` maps pixels of the crop at `cropSide` (the
 * model's) to original-photo pixels; the crop at `side` keeps the pixel centres (scaleCropInverse). Where the crop
 * maps one to one onto the photo's pixel grid the photo's bytes come out exactly (bilinear at whole pixels).
 */
export function originalInCropFrame(original: RgbaImage, cropInverse: Affine, cropSide: number, side: number): RgbaImage {
  const inverse = scaleCropInverse(cropInverse, side / cropSide);
  return warpAffine(original, invertAffine(inverse), side, side);
}

/**
 * The delivered face (the model's output enlarged to side x side) with the original photo's pixels outside the mask
 * and the engine's feathered blend inside its edge. `mask` is the run's mask, in the crop's frame at any size
 * (the model's), white = missing.
 */
export function keepOriginalInCrop(
  delivered: RgbaImage,
  original: RgbaImage,
  cropInverse: Affine,
  cropSide: number,
  mask: RgbaImage,
): RgbaImage {
  const side = delivered.width;
  if (delivered.height !== side) throw new Error(`keepOriginalInCrop: the face is ${side}x${delivered.height}, not square`);
  const photo = originalInCropFrame(original, cropInverse, cropSide, side);
  return blendOutsideMask(delivered, photo, resizeMaskNearest(mask, side, side), featherFor(side, side));
}

/** One face as pasted into the full photo: its crop's side, crop -> photo transform, and the mask it kept outside. */
export interface PastedFace {
  /** side of the pasted crop */
  size: number;
  /** pasted-crop pixels -> photo pixels (what pasteBack was given) */
  inverse: Affine;
  /** present when the run kept the photo's pixels outside this mask (crop frame, any size; white = missing) */
  keptOutside?: RgbaImage;
}

/** pasteBack's own defaults (workers/faces/alignment.ts): which photo pixels a pasted crop changes. */
const PASTE_MARGIN = 0.02;
const PASTE_FEATHER = 0.1;

/**
 * The full photo with the faces pasted back (`composed`) and the original's own bytes wherever no face changes the
 * photo: a pixel inside a kept face's footprint goes back to the original unless it lies in that face's mask, or
 * under another face that was restored there (one without a kept mask, or with the pixel in its mask). The paste
 * resamples the crop, so without this even the kept pixels would come back slightly changed.
 */
export function keepOriginalInPhoto(composed: RgbaImage, original: RgbaImage, faces: readonly PastedFace[]): RgbaImage {
  if (composed.width !== original.width || composed.height !== original.height) {
    throw new Error(`keepOriginalInPhoto: sizes differ (${composed.width}x${composed.height} and ${original.width}x${original.height})`);
  }
  const kept = faces.filter((f) => f.keptOutside);
  if (kept.length === 0) return composed;
  const { width: W, height: H } = original;
  const out: RgbaImage = { width: W, height: H, data: new Uint8ClampedArray(composed.data) };
  const all = faces.map((f) => ({ ...f, toCrop: invertAffine(f.inverse) }));
  /** whether face f's paste changed photo pixel (x, y) and is not to be undone there */
  const changes = (f: (typeof all)[number], x: number, y: number): boolean => {
    const t = f.toCrop;
    const u = t[0] * x + t[1] * y + t[2];
    const v = t[3] * x + t[4] * y + t[5];
    if (featherWeight(u, v, f.size, PASTE_MARGIN * f.size, Math.max(1e-6, PASTE_FEATHER * f.size)) <= 0) return false;
    const m = f.keptOutside;
    if (!m) return true;
    const mx = Math.min(m.width - 1, Math.max(0, Math.floor(((u + 0.5) * m.width) / f.size)));
    const my = Math.min(m.height - 1, Math.max(0, Math.floor(((v + 0.5) * m.height) / f.size)));
    return missingAt(m, my * m.width + mx);
  };
  for (const f of all) {
    if (!f.keptOutside) continue;
    const s = f.size;
    const corners = [
      applyAffine(f.inverse, -0.5, -0.5),
      applyAffine(f.inverse, s - 0.5, -0.5),
      applyAffine(f.inverse, -0.5, s - 0.5),
      applyAffine(f.inverse, s - 0.5, s - 0.5),
    ];
    const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    const x1 = Math.min(W - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
    const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    const y1 = Math.min(H - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (all.some((g) => changes(g, x, y))) continue;
        const o = (y * W + x) * 4;
        out.data[o] = original.data[o] as number;
        out.data[o + 1] = original.data[o + 1] as number;
        out.data[o + 2] = original.data[o + 2] as number;
        out.data[o + 3] = original.data[o + 3] as number;
      }
    }
  }
  return out;
}
