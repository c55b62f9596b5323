/**
 * PSNR and small image statistics on interleaved 8-bit (or 0..255 float) RGB(A) data.
 * No DOM, no Node: shared by the worker, the CLI, tests and tools/quality.
 */

export interface PsnrOptions {
  /** channels per pixel in the data (3 RGB, 4 RGBA; alpha is ignored) */
  channels?: number;
  /** per-pixel weight, 1 = include; a pixel is included when weight > 0.5 */
  include?: ArrayLike<number>;
  /** peak value, 255 by default */
  peak?: number;
  /** compare the lightness (mean of R, G, B) instead of the three channels */
  lightness?: boolean;
}

/** Mean squared error over the included pixels (RGB, or lightness). */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>, pixels: number, opts: PsnrOptions = {}): number {
  const ch = opts.channels ?? 3;
  if (a.length < pixels * ch || b.length < pixels * ch) throw new Error('mse: data shorter than pixels * channels');
  let s = 0;
  let n = 0;
  for (let i = 0; i < pixels; i++) {
    if (opts.include && !(opts.include[i]! > 0.5)) continue;
    const o = i * ch;
    if (opts.lightness) {
      const la = (a[o]! + a[o + 1]! + a[o + 2]!) / 3;
      const lb = (b[o]! + b[o + 1]! + b[o + 2]!) / 3;
      s += (la - lb) ** 2;
      n += 1;
    } else {
      for (let c = 0; c < 3; c++) s += (a[o + c]! - b[o + c]!) ** 2;
      n += 3;
    }
  }
  if (n === 0) throw new Error('mse: no pixel included');
  return s / n;
}

/** PSNR in dB (Infinity for identical images). */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, pixels: number, opts: PsnrOptions = {}): number {
  const peak = opts.peak ?? 255;
  const m = mse(a, b, pixels, opts);
  return m === 0 ? Infinity : 10 * Math.log10((peak * peak) / m);
}

/** Per-channel mean and unbiased std in the model's [-1, 1] space (the colour-statistics property's style). */
export function colorStats(rgb: ArrayLike<number>, pixels: number, channels = 3): { mean: number[]; std: number[] } {
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) {
      const v = (rgb[i * channels + c]! / 255) * 2 - 1;
      mean[c]! += v;
      sq[c]! += v * v;
    }
  }
  const m = mean.map((s) => s / pixels);
  const std = sq.map((s, c) => Math.sqrt(Math.max(0, (s - pixels * m[c]! ** 2) / (pixels - 1))));
  return { mean: m, std };
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('cosine: length mismatch');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
