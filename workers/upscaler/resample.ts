/**
 * Bicubic resampling of RgbaImage in pure TS (worker and Node): the fallback of the super-resolution step and
 * the last exact-size step after it. Keys' cubic (a = -0.5, as in OpenCV/Pillow "bicubic"), separable, pixel
 * centres aligned; when shrinking, the kernel is widened by the factor (antialiased, like Pillow).
 */
import type { RgbaImage } from '../api';

function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** For each output index: the first source index and the normalised weights (edges clamped). */
function weights(src: number, dst: number): { start: Int32Array; taps: number; w: Float32Array } {
  const scale = dst / src;
  const support = scale < 1 ? 2 / scale : 2;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dst);
  const w = new Float32Array(dst * taps);
  const stretch = scale < 1 ? scale : 1;
  for (let i = 0; i < dst; i++) {
    const centre = (i + 0.5) / scale - 0.5;
    const first = Math.floor(centre - support) + 1;
    start[i] = first;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const v = cubic((first + k - centre) * stretch);
      w[i * taps + k] = v;
      sum += v;
    }
    for (let k = 0; k < taps; k++) w[i * taps + k]! /= sum;
  }
  return { start, taps, w };
}

/** Resize to width x height with the bicubic kernel above; all four channels, rounded and clamped to bytes. */
export function resizeBicubic(img: RgbaImage, width: number, height: number): RgbaImage {
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new Error(`resizeBicubic: bad target size ${width}x${height}`);
  }
  if (width === img.width && height === img.height) return { width, height, data: new Uint8ClampedArray(img.data) };
  const W = img.width;
  const H = img.height;
  const src = img.data;
  // horizontal pass: H rows of `width` pixels, kept in float
  const hx = weights(W, width);
  const mid = new Float32Array(H * width * 4);
  for (let y = 0; y < H; y++) {
    const row = y * W * 4;
    for (let x = 0; x < width; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      const s0 = hx.start[x]!;
      for (let k = 0; k < hx.taps; k++) {
        const wt = hx.w[x * hx.taps + k]!;
        if (wt === 0) continue;
        const sx = Math.min(W - 1, Math.max(0, s0 + k));
        const o = row + sx * 4;
        r += wt * src[o]!;
        g += wt * src[o + 1]!;
        b += wt * src[o + 2]!;
        a += wt * src[o + 3]!;
      }
      const o = (y * width + x) * 4;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
      mid[o + 3] = a;
    }
  }
  const vy = weights(H, height);
  const out = new Uint8ClampedArray(width * height * 4);
  const acc = new Float32Array(width * 4);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const s0 = vy.start[y]!;
    for (let k = 0; k < vy.taps; k++) {
      const wt = vy.w[y * vy.taps + k]!;
      if (wt === 0) continue;
      const sy = Math.min(H - 1, Math.max(0, s0 + k));
      const row = sy * width * 4;
      for (let i = 0; i < width * 4; i++) acc[i]! += wt * mid[row + i]!;
    }
    // Uint8ClampedArray rounds half to even and clamps
    out.set(acc, y * width * 4);
  }
  return { width, height, data: out };
}
