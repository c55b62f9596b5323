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
 * The result with the photo's own pixels outside the mask: out = a * result + (1 - a) * photo, where a is 0 on
 * every pixel that is not missing (so those pixels are the photo's bytes, exactly) and ramps from 1/feather at
 * the mask's edge to 1 at `feather` pixels inside it (chamfer distance to the nearest kept pixel).
 * A pixel is missing when any of its RGB values in the mask is > 0 (white = missing).
 */
export function blendOutsideMask(result: RgbaImage, photo: RgbaImage, mask: RgbaImage, feather: number): RgbaImage {
  const { width: w, height: h } = result;
  if (photo.width !== w || photo.height !== h || mask.width !== w || mask.height !== h) {
    throw new Error(`blendOutsideMask: sizes differ (result ${w}x${h}, photo ${photo.width}x${photo.height}, mask ${mask.width}x${mask.height})`);
  }
  const n = w * h;
  const INF = 1e9;
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const missing = (mask.data[i * 4] as number) > 0 || (mask.data[i * 4 + 1] as number) > 0 || (mask.data[i * 4 + 2] as number) > 0;
    d[i] = missing ? INF : 0;
  }
  // two-pass chamfer distance (1, sqrt 2) to the nearest kept pixel
  const D = Math.SQRT2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = d[i] as number;
      if (v === 0) continue;
      if (x > 0) v = Math.min(v, (d[i - 1] as number) + 1);
      if (y > 0) {
        v = Math.min(v, (d[i - w] as number) + 1);
        if (x > 0) v = Math.min(v, (d[i - w - 1] as number) + D);
        if (x < w - 1) v = Math.min(v, (d[i - w + 1] as number) + D);
      }
      d[i] = v;
    }
  for (let y = h - 1; y >= 0; y--)
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      let v = d[i] as number;
      if (v === 0) continue;
      if (x < w - 1) v = Math.min(v, (d[i + 1] as number) + 1);
      if (y < h - 1) {
        v = Math.min(v, (d[i + w] as number) + 1);
        if (x < w - 1) v = Math.min(v, (d[i + w + 1] as number) + D);
        if (x > 0) v = Math.min(v, (d[i + w - 1] as number) + D);
      }
      d[i] = v;
    }
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const a = Math.min(1, (d[i] as number) / feather);
    for (let c = 0; c < 3; c++) {
      const k = i * 4 + c;
      out[k] = a === 0 ? (photo.data[k] as number) : Math.round(a * (result.data[k] as number) + (1 - a) * (photo.data[k] as number));
    }
    out[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data: out };
}
