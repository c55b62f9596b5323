/**
 * Synthetic images for the pixel-geometry tests (mask import, scratch detection, carried masks, the runner's mask):
 * shapes drawn in a photo, a canvas draw emulated independently of the app's own conversions, centroids, and a
 * detected face made from a known crop -> photo transform. Pure: no DOM.
 */
import type { AlignedFace, Affine, RgbaImage } from '../../workers/api';
import { alignFace, applyAffine } from '../../workers/faces/alignment';
import { ffhqTemplate } from '../../workers/faces/templates';

/** Opaque black, width x height. */
export function blank(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data[i * 4 + 3] = 255;
  return { width, height, data };
}

/** A mask: a white square [from, to) on black, RGBA (white = missing); engine and carried-mask tests. */
export function squareMask(size: number, from: number, to: number): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const v = x >= from && x < to && y >= from && y < to ? 255 : 0;
      data.set([v, v, v, 255], (y * size + x) * 4);
    }
  return { width: size, height: size, data };
}

/** A white disc: every pixel whose centre (x, y) lies within r of (cx, cy). */
export function fillDisc(img: RgbaImage, cx: number, cy: number, r: number): void {
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) img.data.set([255, 255, 255, 255], (y * img.width + x) * 4);
}

/** The image f times smaller by area (f x f blocks averaged): how a canvas makes the working copy. */
export function boxDown(img: RgbaImage, f: number): RgbaImage {
  const w = img.width / f;
  const h = img.height / f;
  const out = blank(w, h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < f; j++) for (let i = 0; i < f; i++) s += img.data[((y * f + j) * img.width + x * f + i) * 4 + c] as number;
        out.data[(y * w + x) * 4 + c] = s / (f * f);
      }
  return out;
}

/**
 * What a canvas draws with setTransform(m) and drawImage(src, 0, 0): `m` maps the source's pixel CORNER coordinates
 * (pixel i spans [i, i + 1]) to the canvas's. Each canvas pixel's centre (i + 0.5, j + 0.5) is taken back through
 * m and the source is sampled there (bilinear between pixel centres, area-averaged when shrinking).
 */
export function canvasDraw(src: RgbaImage, m: Affine, width: number, height: number): RgbaImage {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  const ic = -(ia * c + ib * f);
  const ifx = -(id * c + ie * f);
  const srcPerOut = Math.sqrt(Math.abs(ia * ie - ib * id));
  const ss = srcPerOut > 1 ? Math.min(8, Math.ceil(srcPerOut)) : 1;
  const out = blank(width, height);
  const at = (x: number, y: number, ch: number) =>
    x < 0 || y < 0 || x >= src.width || y >= src.height ? (ch === 3 ? 255 : 0) : (src.data[(y * src.width + x) * 4 + ch] as number);
  for (let j = 0; j < height; j++)
    for (let i = 0; i < width; i++)
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let sy = 0; sy < ss; sy++)
          for (let sx = 0; sx < ss; sx++) {
            const u = i + (sx + 0.5) / ss;
            const v = j + (sy + 0.5) / ss;
            // a source point in corner coordinates; its pixel-index position is 0.5 less
            const x = ia * u + ib * v + ic - 0.5;
            const y = id * u + ie * v + ifx - 0.5;
            const x0 = Math.floor(x);
            const y0 = Math.floor(y);
            const tx = x - x0;
            const ty = y - y0;
            acc +=
              (at(x0, y0, ch) * (1 - tx) + at(x0 + 1, y0, ch) * tx) * (1 - ty) +
              (at(x0, y0 + 1, ch) * (1 - tx) + at(x0 + 1, y0 + 1, ch) * tx) * ty;
          }
        out.data[(j * width + i) * 4 + ch] = acc / (ss * ss);
      }
  return out;
}

/** Brightness-weighted centroid of the red channel, in pixel centres (pixel i at i). */
export function centroid(img: RgbaImage): [number, number] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const v = img.data[(y * img.width + x) * 4] as number;
      s += v;
      sx += v * x;
      sy += v * y;
    }
  if (s === 0) throw new Error('centroid of an empty image');
  return [sx / s, sy / s];
}

/** Centroid of a 0/1 mask buffer, in pixel centres. */
export function maskCentroid(m: { width: number; height: number; data: Uint8Array }): [number, number] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < m.height; y++)
    for (let x = 0; x < m.width; x++) {
      const v = m.data[y * m.width + x] as number;
      s += v;
      sx += v * x;
      sy += v * y;
    }
  if (s === 0) throw new Error('centroid of an empty mask');
  return [sx / s, sy / s];
}

/** A 0/1 buffer as an RgbaImage mask (white = 1). */
export function maskImage(m: { width: number; height: number; data: Uint8Array }): RgbaImage {
  const img = blank(m.width, m.height);
  for (let i = 0; i < m.data.length; i++) if (m.data[i]) img.data.set([255, 255, 255, 255], i * 4);
  return img;
}

/** An image's red channel at 50% as a 0/1 buffer (a mask painted over what the crop shows). */
export function threshold(img: RgbaImage): { width: number; height: number; data: Uint8Array } {
  const data = Uint8Array.from({ length: img.width * img.height }, (_, i) => ((img.data[i * 4] as number) >= 128 ? 1 : 0));
  return { width: img.width, height: img.height, data };
}

/**
 * The crop -> photo transform of a face at `size` px whose crop centre sits at (cx, cy) in the photo, k photo pixels
 * per crop pixel, turned by `deg` degrees (pixel centres).
 */
export function faceInverse(size: number, k: number, deg: number, cx: number, cy: number): Affine {
  const t = (deg * Math.PI) / 180;
  const a = k * Math.cos(t);
  const b = k * Math.sin(t);
  const h = (size - 1) / 2;
  return [a, -b, cx - (a * h - b * h), b, a, cy - (b * h + a * h)];
}

/** A detected face on `photo`: its five points are the template through `inverse`, aligned as the worker aligns. */
export function detectedFace(photo: RgbaImage, size: number, inverse: Affine): AlignedFace {
  const template = ffhqTemplate(size);
  const landmarks = template.map(([x, y]) => applyAffine(inverse, x, y));
  return alignFace(photo, { landmarks }, template, size);
}

/** b - a, and its length. */
export function offset(a: readonly [number, number], b: readonly [number, number]): { dx: number; dy: number; d: number } {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  return { dx, dy, d: Math.hypot(dx, dy) };
}
