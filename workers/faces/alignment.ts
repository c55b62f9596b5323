/**
 * Face alignment in pure TS on RgbaImage: least-squares similarity transform (Umeyama) from the
 * five landmarks to a template, its inverse, a bilinear (antialiased) warp into the crop, and
 * paste-back of restored crops with a feathered mask. No DOM, no onnxruntime.
 *
 * Pixel convention (the one every pixel mapping in the app uses): pixel CENTRES at whole
 * coordinates. Pixel (i, j) is the point (i, j) and covers [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5];
 * an image of width w spans [-0.5, w - 0.5]. Every Affine between the photo, the working copy, an
 * aligned crop at any size and the masks in those frames maps pixel centres to pixel centres
 * (landmarks, templates, AlignedFace.transform / inverse, warpAffine, pasteBack). Two places speak
 * pixel CORNERS (pixel i spans [i, i + 1]) and are converted at their edge: the canvas
 * (drawImage / setTransform; centresToCorners), and the recorded `inverse` of the whole photo as the
 * face ("already a cropped face", faceIndex -1, centerSquareTransform; cornersToCentres), which
 * stays in corners because saved history holds it so. The same place at two sizes of one frame
 * (a photo and its working copy, a crop at the model's and at a larger size) relates by
 * resizeCentres: u' = (u + 0.5) * k - 0.5, not u' = u * k.
 */
import type { AlignedFace, Affine, DetectedFace, RgbaImage } from '../api';
import { createImage, sampleBilinear, type EdgeMode } from './image';
import type { Point } from './templates';

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
 * mapping src points onto dst points: Umeyama (1991) in 2D, closed form.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error('similarityTransform: need >= 2 point pairs of equal count');
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let sxx = 0; // sum |s|^2
  let dot = 0; // sum s . d
  let cross = 0; // sum s x d
  for (let i = 0; i < n; i++) {
    const ax = src[i]![0] - sx;
    const ay = src[i]![1] - sy;
    const bx = dst[i]![0] - dx;
    const by = dst[i]![1] - dy;
    sxx += ax * ax + ay * ay;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
  }
  if (sxx === 0) throw new Error('similarityTransform: source points coincide');
  // scale * cos(theta), scale * sin(theta)
  const a = dot / sxx;
  const b = cross / sxx;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

export function applyAffine(m: Affine, x: number, y: number): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) throw new Error('invertAffine: singular matrix');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** outer after inner: x -> outer(inner(x)). */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [g, h, i, j, k, l] = inner;
  return [a * g + b * j, a * h + b * k, a * i + b * l + c, d * g + e * j, d * h + e * k, d * i + e * l + f];
}

/**
 * Pixel centres of an image to those of the same frame k times as large (a photo and its working copy, a crop at
 * the model's size and enlarged): u' = (u + 0.5) * k - 0.5, so that the images' edges, not their first pixels, meet.
 */
export function resizeCentres(k: number): Affine {
  const c = 0.5 * k - 0.5;
  return [k, 0, c, 0, k, c];
}

/** A map written in pixel corners (pixel i spans [i, i + 1]: the canvas) as the same map on pixel centres. */
export function cornersToCentres(m: Affine): Affine {
  // P(u) = C(u + 0.5) - 0.5
  const [a, b, c, d, e, f] = m;
  return [a, b, c + 0.5 * (a + b) - 0.5, d, e, f + 0.5 * (d + e) - 0.5];
}

/** A map on pixel centres as the same map in pixel corners (for a canvas setTransform). */
export function centresToCorners(m: Affine): Affine {
  // C(p) = P(p - 0.5) + 0.5
  const [a, b, c, d, e, f] = m;
  return [a, b, c - 0.5 * (a + b) + 0.5, d, e, f - 0.5 * (d + e) + 0.5];
}

/** Linear scale of an affine map (sqrt of |det|): output pixels per input pixel. */
export function affineScale(m: Affine): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

export interface WarpOptions {
  /** how to fill crop pixels that map outside the photo; default 'reflect' */
  edge?: EdgeMode;
  /** RGBA for edge 'constant'; default opaque black */
  fill?: [number, number, number, number];
}

/**
 * Warp `src` into a width x height image with `transform` (src pixels -> output pixels).
 * Bilinear; when the warp shrinks (more than ~1.25 source pixels per output pixel) each output
 * pixel averages up to 4x4 bilinear samples so that the crop does not alias.
 */
export function warpAffine(src: RgbaImage, transform: Affine, width: number, height: number, options: WarpOptions = {}): RgbaImage {
  const inv = invertAffine(transform);
  const edge = options.edge ?? 'reflect';
  const fill = options.fill ?? [0, 0, 0, 255];
  const srcPerOut = affineScale(inv);
  const ss = srcPerOut > 1.25 ? Math.min(4, Math.ceil(srcPerOut)) : 1;
  const out = createImage(width, height);
  const px = new Float32Array(4);
  const acc = new Float32Array(4);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      acc.fill(0);
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const u = i + (sx + 0.5) / ss - 0.5;
          const v = j + (sy + 0.5) / ss - 0.5;
          const x = inv[0] * u + inv[1] * v + inv[2];
          const y = inv[3] * u + inv[4] * v + inv[5];
          sampleBilinear(src, x, y, edge, px, 0, fill);
          acc[0] = acc[0]! + px[0]!;
          acc[1] = acc[1]! + px[1]!;
          acc[2] = acc[2]! + px[2]!;
          acc[3] = acc[3]! + px[3]!;
        }
      }
      const o = (j * width + i) * 4;
      const n = ss * ss;
      out.data[o] = acc[0]! / n;
      out.data[o + 1] = acc[1]! / n;
      out.data[o + 2] = acc[2]! / n;
      out.data[o + 3] = acc[3]! / n;
    }
  }
  return out;
}

/** Warp a detected face into a size x size crop in `template` (five points in crop pixels). */
export function alignFace(
  photo: RgbaImage,
  face: Pick<DetectedFace, 'landmarks'>,
  template: readonly Point[],
  size: number,
  options: WarpOptions = {},
): AlignedFace {
  const transform = similarityTransform(face.landmarks as Point[], template);
  const crop = warpAffine(photo, transform, size, size, options);
  return { crop, transform, inverse: invertAffine(transform) };
}

export interface PasteOptions {
  /** crop pixels along each edge that are ignored (fraction of the crop size); default 0.02 */
  margin?: number;
  /** width of the soft ramp from 0 to 1 (fraction of the crop size); default 0.1 */
  feather?: number;
}

/** pasteBack's defaults, as fractions of the crop's side: the untouched edge and the feather's width. */
export const PASTE_MARGIN = 0.02;
export const PASTE_FEATHER = 0.1;

/**
 * The feathered blend weight at crop pixel (u, v) of a size x size crop: 0 within `margin` of
 * the edge, rising smoothly (smoothstep) to 1 over `feather`.
 */
export function featherWeight(u: number, v: number, size: number, margin: number, feather: number): number {
  const e = Math.min(u + 0.5, v + 0.5, size - 0.5 - u, size - 0.5 - v) - margin;
  if (e <= 0) return 0;
  if (e >= feather) return 1;
  const t = e / feather;
  return t * t * (3 - 2 * t);
}

/**
 * Paste restored crops back into a copy of the photo. Each piece's `inverse` maps crop pixels to
 * photo pixels (AlignedFace.inverse). Photo pixels are blended with the crop by the feathered
 * weight; pixels outside every piece's footprint are left exactly as they were. Where the crop
 * is bigger than its footprint in the photo, up to 4x4 samples per photo pixel are averaged.
 * Alpha is kept from the photo.
 */
export function pasteBack(
  photo: RgbaImage,
  pieces: readonly { crop: RgbaImage; inverse: Affine }[],
  options: PasteOptions = {},
): RgbaImage {
  const out: RgbaImage = { width: photo.width, height: photo.height, data: new Uint8ClampedArray(photo.data) };
  const px = new Float32Array(4);
  const acc = new Float32Array(3);
  for (const piece of pieces) {
    const { crop, inverse } = piece;
    if (crop.width !== crop.height) throw new Error('pasteBack: crops must be square');
    const size = crop.width;
    const margin = (options.margin ?? PASTE_MARGIN) * size;
    const feather = Math.max(1e-6, (options.feather ?? PASTE_FEATHER) * size);
    const toCrop = invertAffine(inverse);
    const cropPerPhoto = affineScale(toCrop);
    const ss = cropPerPhoto > 1.25 ? Math.min(4, Math.ceil(cropPerPhoto)) : 1;
    // footprint of the crop in the photo
    const corners = [
      applyAffine(inverse, -0.5, -0.5),
      applyAffine(inverse, size - 0.5, -0.5),
      applyAffine(inverse, -0.5, size - 0.5),
      applyAffine(inverse, size - 0.5, size - 0.5),
    ];
    const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    const x1 = Math.min(photo.width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
    const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    const y1 = Math.min(photo.height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const u = toCrop[0] * x + toCrop[1] * y + toCrop[2];
        const v = toCrop[3] * x + toCrop[4] * y + toCrop[5];
        const w = featherWeight(u, v, size, margin, feather);
        if (w <= 0) continue;
        acc.fill(0);
        for (let sy = 0; sy < ss; sy++) {
          for (let sx = 0; sx < ss; sx++) {
            const xx = x + (sx + 0.5) / ss - 0.5;
            const yy = y + (sy + 0.5) / ss - 0.5;
            const cu = toCrop[0] * xx + toCrop[1] * yy + toCrop[2];
            const cv = toCrop[3] * xx + toCrop[4] * yy + toCrop[5];
            sampleBilinear(crop, cu, cv, 'clamp', px);
            acc[0] = acc[0]! + px[0]!;
            acc[1] = acc[1]! + px[1]!;
            acc[2] = acc[2]! + px[2]!;
          }
        }
        const n = ss * ss;
        const o = (y * photo.width + x) * 4;
        for (let c = 0; c < 3; c++) out.data[o + c] = w * (acc[c]! / n) + (1 - w) * out.data[o + c]!;
      }
    }
  }
  return out;
}
