/**
 * Small pure-TS image helpers on RgbaImage (workers/api.ts): sampling with edge modes,
 * box downscaling. No DOM, no onnxruntime: runs in a Web Worker and in Node.
 */
import type { RgbaImage } from '../api';

export type EdgeMode = 'reflect' | 'clamp' | 'constant';

export function createImage(width: number, height: number): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(width * height * 4) };
}

/** Reflect an index into [0, n) without repeating the edge pixel (OpenCV BORDER_REFLECT_101). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

function edgeIndex(i: number, n: number, mode: EdgeMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'reflect') return reflectIndex(i, n);
  if (mode === 'clamp') return i < 0 ? 0 : n - 1;
  return -1;
}

const OPAQUE_BLACK = [0, 0, 0, 255] as const;

/**
 * Bilinear sample at (x, y) in pixel-centre coordinates (pixel i covers [i-0.5, i+0.5]).
 * Writes RGBA floats into out[offset..offset+3]. Constant mode reads `fill` outside the image.
 */
export function sampleBilinear(
  img: RgbaImage,
  x: number,
  y: number,
  mode: EdgeMode,
  out: Float32Array,
  offset = 0,
  fill: readonly [number, number, number, number] = OPAQUE_BLACK,
): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const w = img.width;
  const h = img.height;
  const d = img.data;
  if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
    // fast path: all four neighbours inside
    const i00 = (y0 * w + x0) * 4;
    const i01 = i00 + w * 4;
    for (let c = 0; c < 4; c++) {
      const top = d[i00 + c]! + (d[i00 + 4 + c]! - d[i00 + c]!) * fx;
      const bot = d[i01 + c]! + (d[i01 + 4 + c]! - d[i01 + c]!) * fx;
      out[offset + c] = top + (bot - top) * fy;
    }
    return;
  }
  const xa = edgeIndex(x0, w, mode);
  const xb = edgeIndex(x0 + 1, w, mode);
  const ya = edgeIndex(y0, h, mode);
  const yb = edgeIndex(y0 + 1, h, mode);
  const w00 = (1 - fx) * (1 - fy);
  const w10 = fx * (1 - fy);
  const w01 = (1 - fx) * fy;
  const w11 = fx * fy;
  for (let c = 0; c < 4; c++) {
    const p00 = xa < 0 || ya < 0 ? fill[c]! : d[(ya * w + xa) * 4 + c]!;
    const p10 = xb < 0 || ya < 0 ? fill[c]! : d[(ya * w + xb) * 4 + c]!;
    const p01 = xa < 0 || yb < 0 ? fill[c]! : d[(yb * w + xa) * 4 + c]!;
    const p11 = xb < 0 || yb < 0 ? fill[c]! : d[(yb * w + xb) * 4 + c]!;
    out[offset + c] = p00 * w00 + p10 * w10 + p01 * w01 + p11 * w11;
  }
}

/** Average factor x factor blocks (integer box filter). Partial blocks at the edges are averaged too. */
export function downscaleBox(img: RgbaImage, factor: number): RgbaImage {
  const f = Math.max(1, Math.floor(factor));
  if (f === 1) return { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data) };
  const ow = Math.ceil(img.width / f);
  const oh = Math.ceil(img.height / f);
  const out = createImage(ow, oh);
  const acc = new Float64Array(ow * 4);
  const cnt = new Float64Array(ow);
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    cnt.fill(0);
    const yEnd = Math.min(img.height, (oy + 1) * f);
    for (let y = oy * f; y < yEnd; y++) {
      const row = y * img.width * 4;
      for (let x = 0; x < img.width; x++) {
        const ox = (x / f) | 0;
        const s = row + x * 4;
        const a = ox * 4;
        acc[a] = acc[a]! + img.data[s]!;
        acc[a + 1] = acc[a + 1]! + img.data[s + 1]!;
        acc[a + 2] = acc[a + 2]! + img.data[s + 2]!;
        acc[a + 3] = acc[a + 3]! + img.data[s + 3]!;
        cnt[ox] = cnt[ox]! + 1;
      }
    }
    for (let ox = 0; ox < ow; ox++) {
      const n = cnt[ox]!;
      const o = (oy * ow + ox) * 4;
      for (let c = 0; c < 4; c++) out.data[o + c] = Math.round(acc[ox * 4 + c]! / n);
    }
  }
  return out;
}

/**
 * Rotate by k quarter turns clockwise (as seen on screen, y down). Returns the rotated image and
 * a function mapping a point of the rotated image back to the original's pixel coordinates.
 */
export function rotateQuarter(img: RgbaImage, k: number): { image: RgbaImage; toOriginal: (x: number, y: number) => [number, number] } {
  const q = ((k % 4) + 4) % 4;
  const W = img.width;
  const H = img.height;
  const ow = q % 2 === 0 ? W : H;
  const oh = q % 2 === 0 ? H : W;
  const out = createImage(ow, oh);
  // original pixel (x, y) -> rotated (u, v)
  const fwd = (x: number, y: number): [number, number] =>
    q === 0 ? [x, y] : q === 1 ? [H - 1 - y, x] : q === 2 ? [W - 1 - x, H - 1 - y] : [y, W - 1 - x];
  const toOriginal = (u: number, v: number): [number, number] =>
    q === 0 ? [u, v] : q === 1 ? [v, H - 1 - u] : q === 2 ? [W - 1 - u, H - 1 - v] : [W - 1 - v, u];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [u, v] = fwd(x, y);
      const s = (y * W + x) * 4;
      out.data.set(img.data.subarray(s, s + 4), (v * ow + u) * 4);
    }
  }
  return { image: out, toOriginal };
}
