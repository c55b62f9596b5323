/**
 * What the engine keeps of the photo at the MODEL's resolution, kept at the size the person downloads. A face
 * enlarged to its size in the original photo, and the full photo with the faces pasted back, are made from the
 * model's output, so they would carry the enlarged (resampled) output where the run kept the photo. These put the
 * ORIGINAL photo back at its full resolution, by the engine's own rules (workers/engine/image.ts):
 * - "keep unmasked": the photo's pixels outside the mask, with the engine's feathered blend (0 outside the mask,
 *   ramping to the result over `featherFor` pixels inside it, toward the colour of the nearest kept pixel);
 * - "keep lightness" (colorization): the photo's lightness and the result's colour (`withLightnessOf`), outside the
 *   mask when there is one.
 * Both, in the engine's order: the blend first, then the lightness; outside the mask that leaves the original's
 * pixels, inside it the result's. Pure: no DOM, no worker.
 */
import type { Affine, RgbaImage } from '../../../workers/api';
import { blendOutsideMask, featherFor, maskMissingAt, withLightnessOf } from '../../../workers/engine/image';
import {
  applyAffine,
  composeAffine,
  cornersToCentres,
  featherWeight,
  invertAffine,
  PASTE_FEATHER,
  PASTE_MARGIN,
  resizeCentres,
  warpAffine,
} from '../../../workers/faces/alignment';
import { scaleCropInverse } from '../../../workers/upscaler/geometry';
import type { RunFaceResult } from '../history/history-model';

/** What a run kept of the photo (recorded in its RunFaceResult), with the masks in the crop's frame at any size. */
export interface KeptOfPhoto {
  /** the run kept the photo's pixels outside this mask (white = missing) */
  keptOutside?: RgbaImage;
  /** the run kept the photo's lightness, outside `mask` when there is one */
  keptLightness?: { mask?: RgbaImage };
}

/** What a face's run kept of the photo, from its record; undefined when nothing. */
export function keptOf(f: Pick<RunFaceResult, 'mask' | 'keptUnmasked' | 'keptLightness'>): KeptOfPhoto | undefined {
  const kept: KeptOfPhoto = {};
  if (f.keptUnmasked && f.mask) kept.keptOutside = f.mask;
  // the engine's lightness step skips the mask's pixels (the damage it marks), as here
  if (f.keptLightness) kept.keptLightness = f.mask ? { mask: f.mask } : {};
  return kept.keptOutside || kept.keptLightness ? kept : undefined;
}

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
  // corners: the crop -> working map divided by the scale is a corner map crop -> original
  if (corners) return cornersToCentres(inverse.map((v) => v * k) as Affine);
  // centres in the working copy: (P_w(u) + 0.5) / scale - 0.5
  return composeAffine(resizeCentres(k), inverse);
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
 * The delivered face (the model's output enlarged to side x side) with what the run kept of the photo taken from the
 * original photo at that size: its pixels outside the mask (with the engine's feathered blend inside its edge), its
 * lightness (where the engine kept it). Masks are in the crop's frame at any size (the model's), white = missing.
 */
export function keepOriginalInCrop(
  delivered: RgbaImage,
  original: RgbaImage,
  cropInverse: Affine,
  cropSide: number,
  kept: KeptOfPhoto,
): RgbaImage {
  const side = delivered.width;
  if (delivered.height !== side) throw new Error(`keepOriginalInCrop: the face is ${side}x${delivered.height}, not square`);
  if (!kept.keptOutside && !kept.keptLightness) return delivered;
  const photo = originalInCropFrame(original, cropInverse, cropSide, side);
  let out = delivered;
  if (kept.keptOutside) out = blendOutsideMask(out, photo, resizeMaskNearest(kept.keptOutside, side, side), featherFor(side, side));
  if (kept.keptLightness) {
    const m = kept.keptLightness.mask;
    out = withLightnessOf(out, photo, m ? resizeMaskNearest(m, side, side) : undefined);
  }
  return out;
}

/** One face as pasted into the full photo: its crop's side, crop -> photo transform, and what its run kept. */
export interface PastedFace extends KeptOfPhoto {
  /** side of the pasted crop */
  size: number;
  /** pasted-crop pixels -> photo pixels (what pasteBack was given) */
  inverse: Affine;
}

/** The photo pixels a pasted crop's square can touch: its bounding box, clipped to the photo. */
function footprint(f: PastedFace, W: number, H: number): { x0: number; x1: number; y0: number; y1: number } {
  const s = f.size;
  const corners = [
    applyAffine(f.inverse, -0.5, -0.5),
    applyAffine(f.inverse, s - 0.5, -0.5),
    applyAffine(f.inverse, -0.5, s - 0.5),
    applyAffine(f.inverse, s - 0.5, s - 0.5),
  ];
  return {
    x0: Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0])))),
    x1: Math.min(W - 1, Math.ceil(Math.max(...corners.map((c) => c[0])))),
    y0: Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1])))),
    y1: Math.min(H - 1, Math.ceil(Math.max(...corners.map((c) => c[1])))),
  };
}

/**
 * The full photo with the faces pasted back (`composed`) and, where the runs kept the photo, the original at its full
 * resolution (the paste resamples the crop, so without this even the kept pixels would come back changed):
 * - its own bytes wherever no face changes the photo: a pixel inside a kept-outside face's footprint goes back to the
 *   original unless it lies in that face's mask, or under another face that was restored there (one without a kept
 *   mask, or with the pixel in its mask);
 * - its lightness (withLightnessOf) on the pixels that faces change, where every face changing the pixel kept the
 *   lightness there (outside its mask, if it has one); the colour stays the pasted result's.
 */
export function keepOriginalInPhoto(composed: RgbaImage, original: RgbaImage, faces: readonly PastedFace[]): RgbaImage {
  if (composed.width !== original.width || composed.height !== original.height) {
    throw new Error(`keepOriginalInPhoto: sizes differ (${composed.width}x${composed.height} and ${original.width}x${original.height})`);
  }
  if (!faces.some((f) => f.keptOutside || f.keptLightness)) return composed;
  const { width: W, height: H } = original;
  const out: RgbaImage = { width: W, height: H, data: new Uint8ClampedArray(composed.data) };
  const all = faces.map((f) => ({ ...f, toCrop: invertAffine(f.inverse) }));
  type Face = (typeof all)[number];
  /** the crop coordinates of photo pixel (x, y) and whether the paste changed it */
  const at = (f: Face, x: number, y: number) => {
    const t = f.toCrop;
    const u = t[0] * x + t[1] * y + t[2];
    const v = t[3] * x + t[4] * y + t[5];
    return { u, v, pasted: featherWeight(u, v, f.size, PASTE_MARGIN * f.size, Math.max(1e-6, PASTE_FEATHER * f.size)) > 0 };
  };
  /** whether crop point (u, v) of face f lies in mask m (white = missing) */
  const inMask = (f: Face, m: RgbaImage, u: number, v: number): boolean => {
    const mx = Math.min(m.width - 1, Math.max(0, Math.floor(((u + 0.5) * m.width) / f.size)));
    const my = Math.min(m.height - 1, Math.max(0, Math.floor(((v + 0.5) * m.height) / f.size)));
    return maskMissingAt(m, my * m.width + mx);
  };
  /** whether face f's paste changed photo pixel (x, y) and is not to be undone there */
  const changes = (f: Face, x: number, y: number): boolean => {
    const p = at(f, x, y);
    if (!p.pasted) return false;
    return !f.keptOutside || inMask(f, f.keptOutside, p.u, p.v);
  };
  /** whether face f's run kept the photo's lightness at photo pixel (x, y) */
  const keepsLightness = (f: Face, x: number, y: number): boolean => {
    if (!f.keptLightness) return false;
    const m = f.keptLightness.mask;
    if (!m) return true;
    const p = at(f, x, y);
    return !inMask(f, m, p.u, p.v);
  };
  for (const f of all) {
    if (!f.keptOutside) continue;
    const { x0, x1, y0, y1 } = footprint(f, W, H);
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
  if (!all.some((f) => f.keptLightness)) return out;
  // withLightnessOf's own mask: white = leave the pixel as it is
  const leave: RgbaImage = { width: W, height: H, data: new Uint8ClampedArray(W * H * 4).fill(255) };
  for (const f of all) {
    if (!f.keptLightness) continue;
    const { x0, x1, y0, y1 } = footprint(f, W, H);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const changers = all.filter((g) => changes(g, x, y));
        if (changers.length === 0 || !changers.every((g) => keepsLightness(g, x, y))) continue;
        leave.data.fill(0, (y * W + x) * 4, (y * W + x) * 4 + 3);
      }
    }
  }
  return withLightnessOf(out, original, leave);
}
