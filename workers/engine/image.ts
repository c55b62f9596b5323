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
