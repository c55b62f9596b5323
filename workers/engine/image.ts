import type { RgbaImage } from '../api';

/** RGBA bytes -> CHW float32 in [-1, 1] (x / 127.5 - 1, as the reference reads images). */
export function rgbaToChw(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = (img.data[i * 4] as number) / 127.5 - 1;
    out[n + i] = (img.data[i * 4 + 1] as number) / 127.5 - 1;
    out[2 * n + i] = (img.data[i * 4 + 2] as number) / 127.5 - 1;
  }
  return out;
}

/** Mask RGBA -> CHW float in [0, 1] per channel (white = missing), as the reference reads masks. */
export function maskToChw(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = (img.data[i * 4 + c] as number) / 255;
  return out;
}

/** CHW float in [-1, 1] -> RGBA bytes: ((x + 1) * 127.5).clamp(0, 255) truncated, as the reference saves. */
export function chwToRgba(x: Float32Array, width: number, height: number): RgbaImage {
  const n = width * height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = ((x[c * n + i] as number) + 1) * 127.5;
      data[i * 4 + c] = Math.floor(Math.min(255, Math.max(0, Number.isNaN(v) ? 0 : v)));
    }
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** Feather width (pixels) of the final blend for an image of this size: 1/64 of the short side, at least 2. */
export function featherFor(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 64));
}

/**
 * The result with the photo's own pixels outside the mask: out = a * result + (1 - a) * edge, where a is 0 on every
 * pixel that is not missing (so those pixels are the photo's bytes, exactly) and ramps from 1/feather at the mask's
 * edge to 1 at `feather` pixels inside it (chamfer distance to the nearest kept pixel). `edge` is the photo's colour
 * at that nearest KEPT pixel, never the photo's own pixel inside the mask: that one is the damage the mask marks
 * (a scratch, a white box), and blending it in drew a halo along every mask edge.
 * A pixel is missing when any of its RGB values in the mask is > 0 (white = missing).
 */
export function blendOutsideMask(result: RgbaImage, photo: RgbaImage, mask: RgbaImage, feather: number): RgbaImage {
  const { width: w, height: h } = result;
  if (photo.width !== w || photo.height !== h || mask.width !== w || mask.height !== h) {
    throw new Error(
      `blendOutsideMask: sizes differ (result ${w}x${h}, photo ${photo.width}x${photo.height}, mask ${mask.width}x${mask.height})`,
    );
  }
  const n = w * h;
  const { d, near } = nearestKept(mask);
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const a = Math.min(1, (d[i] as number) / feather);
    const src = near[i] as number;
    for (let c = 0; c < 3; c++) {
      const k = i * 4 + c;
      if (a === 0) out[k] = photo.data[k] as number;
      // a mask that covers everything has no kept pixel: the result alone
      else if (a >= 1 || src < 0) out[k] = result.data[k] as number;
      else out[k] = Math.round(a * (result.data[k] as number) + (1 - a) * (photo.data[src * 4 + c] as number));
    }
    out[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data: out };
}

/**
 * For every pixel, the chamfer distance (1, sqrt 2) to the nearest kept (not missing) pixel of the mask and that
 * pixel's index (-1 when the mask covers everything). Two passes.
 */
function nearestKept(mask: RgbaImage): { d: Float32Array; near: Int32Array } {
  const { width: w, height: h } = mask;
  const n = w * h;
  const INF = 1e9;
  const d = new Float32Array(n);
  const near = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const missing = maskMissingAt(mask, i);
    d[i] = missing ? INF : 0;
    if (!missing) near[i] = i;
  }
  const D = Math.SQRT2;
  const relax = (i: number, j: number, step: number) => {
    const v = (d[j] as number) + step;
    if (v < (d[i] as number)) {
      d[i] = v;
      near[i] = near[j] as number;
    }
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      if (x > 0) relax(i, i - 1, 1);
      if (y > 0) {
        relax(i, i - w, 1);
        if (x > 0) relax(i, i - w - 1, D);
        if (x < w - 1) relax(i, i - w + 1, D);
      }
    }
  for (let y = h - 1; y >= 0; y--)
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      if (x < w - 1) relax(i, i + 1, 1);
      if (y < h - 1) {
        relax(i, i + w, 1);
        if (x < w - 1) relax(i, i + w + 1, D);
        if (x > 0) relax(i, i + w - 1, D);
      }
    }
  return { d, near };
}

/**
 * The photo with its missing pixels (white in the mask) replaced by the colour of the nearest kept pixel: a start
 * for inpainting that carries the surrounding colours into the hole instead of the damage (a white box).
 */
export function fillMissing(photo: RgbaImage, mask: RgbaImage): RgbaImage {
  const { near } = nearestKept(mask);
  const out = new Uint8ClampedArray(photo.data);
  for (let i = 0; i < near.length; i++) {
    const src = near[i] as number;
    if (src >= 0 && src !== i) for (let c = 0; c < 3; c++) out[i * 4 + c] = photo.data[src * 4 + c] as number;
  }
  return { width: photo.width, height: photo.height, data: out };
}

/**
 * The result with the photo's lightness (mean of R, G, B, the lightness property's measure) and the result's colour:
 * each pixel moves by the difference of the two lightnesses, clamped to [0, 255]. Only where the mask (if any) keeps
 * the photo.
 */
export function withLightnessOf(result: RgbaImage, photo: RgbaImage, mask?: RgbaImage): RgbaImage {
  const { width: w, height: h } = result;
  if (photo.width !== w || photo.height !== h || (mask && (mask.width !== w || mask.height !== h))) {
    throw new Error(`withLightnessOf: sizes differ (result ${w}x${h}, photo ${photo.width}x${photo.height})`);
  }
  const out = new Uint8ClampedArray(result.data);
  for (let i = 0; i < w * h; i++) {
    const k = i * 4;
    if (mask && maskMissingAt(mask, i)) continue;
    const lp = ((photo.data[k] as number) + (photo.data[k + 1] as number) + (photo.data[k + 2] as number)) / 3;
    const lr = ((result.data[k] as number) + (result.data[k + 1] as number) + (result.data[k + 2] as number)) / 3;
    for (let c = 0; c < 3; c++) out[k + c] = Math.round((result.data[k + c] as number) + lp - lr);
  }
  return { width: w, height: h, data: out };
}

/** Whether mask pixel i is missing: any of its R, G, B > 0 (white = missing), as every mask reader here takes it. */
export function maskMissingAt(mask: RgbaImage, i: number): boolean {
  const d = mask.data;
  return (d[i * 4] as number) > 0 || (d[i * 4 + 1] as number) > 0 || (d[i * 4 + 2] as number) > 0;
}
