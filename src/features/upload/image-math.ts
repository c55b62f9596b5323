/** Pure helpers for reading image files and sizing the working copy (unit-tested in Node). */
import type { Affine } from '../../../workers/api';
import { composeAffine, cornersToCentres, resizeCentres } from '../../../workers/faces/alignment';

export type ImageKind = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'avif' | 'heic' | 'tiff' | 'ico';

/** The longest side of the working copy used for detection and display. */
export const WORK_MAX_SIDE = 2048;
/** Photos above this many pixels are refused (the decoded original alone would need 4 bytes each). */
export const MAX_PIXELS = 50_000_000;
/** Files above this size are refused before reading them. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[at + i] ?? 0);
  return s;
}

/** What the first bytes of a file say it is, or undefined when it is no image format we know. */
export function sniffImageKind(b: Uint8Array): ImageKind | undefined {
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return 'bmp';
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return 'tiff';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return 'ico';
  return undefined;
}

function u16be(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}
function u32be(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) >>> 0) + (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0));
}
function u16le(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
}
function u24le(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16);
}
function i32le(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
}

/**
 * The pixel size written in the file's header (before decoding), or undefined when the header is
 * missing or truncated. Used to refuse huge images before the browser tries to decode them.
 */
export function readHeaderSize(b: Uint8Array, kind: ImageKind): { width: number; height: number } | undefined {
  switch (kind) {
    case 'png':
      if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return undefined;
      return { width: u32be(b, 16), height: u32be(b, 20) };
    case 'gif':
      if (b.length < 10) return undefined;
      return { width: u16le(b, 6), height: u16le(b, 8) };
    case 'bmp':
      if (b.length < 26) return undefined;
      return { width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
    case 'webp': {
      if (b.length < 30) return undefined;
      const chunk = ascii(b, 12, 4);
      if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
      if (chunk === 'VP8L') {
        const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24);
        return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
      }
      if (chunk === 'VP8 ') return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
      return undefined;
    }
    case 'jpeg': {
      let i = 2;
      while (i + 9 < b.length) {
        if (b[i] !== 0xff) return undefined;
        const marker = b[i + 1] ?? 0;
        if (marker === 0xff) {
          i += 1;
          continue;
        }
        // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc)
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { width: u16be(b, i + 7), height: u16be(b, i + 5) };
        }
        if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
          i += 2;
          continue;
        }
        i += 2 + u16be(b, i + 2);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The working copy's size: longest side at most maxSide, never upscaled. */
export function workingSize(width: number, height: number, maxSide = WORK_MAX_SIDE): { width: number; height: number; scale: number } {
  if (!(width > 0) || !(height > 0)) throw new RangeError(`bad image size ${width}x${height}`);
  const longest = Math.max(width, height);
  if (longest <= maxSide) return { width, height, scale: 1 };
  const scale = maxSide / longest;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
    scale,
  };
}

/**
 * An affine into working-photo pixel centres, re-expressed into original-photo pixel centres (the convention of
 * workers/faces/alignment.ts): x = (x_w + 0.5) / scale - 0.5, the two copies' edges meeting (not x_w / scale).
 */
export function toOriginalPixels(inverse: Affine, scale: number): Affine {
  return composeAffine(resizeCentres(1 / scale), inverse);
}

/**
 * A face crop's crop -> working-photo transform on pixel centres (workers/faces/alignment.ts). A detected face's
 * `inverse` is one already (the worker's warpAffine); the whole photo as the face (faceIndex -1) holds
 * centerSquareTransform's, in pixel corners, as the canvas draws it and history records it: converted here.
 */
export function cropToWorkingCentres(crop: { faceIndex: number; aligned: { inverse: Affine } }): Affine {
  return crop.faceIndex < 0 ? cornersToCentres(crop.aligned.inverse) : crop.aligned.inverse;
}

/**
 * "My photo is already a cropped face": the largest centred square of the photo, scaled to the
 * model's resolution. Returns photo -> crop and crop -> photo in pixel CORNERS (as the canvas draws the square;
 * cropToWorkingCentres turns the inverse into the pixel-centre convention the rest of the app uses).
 */
export function centerSquareTransform(
  width: number,
  height: number,
  size: number,
): { transform: Affine; inverse: Affine; side: number; x: number; y: number } {
  const side = Math.min(width, height);
  const x = (width - side) / 2;
  const y = (height - side) / 2;
  const k = size / side;
  return { transform: [k, 0, -x * k, 0, k, -y * k], inverse: [1 / k, 0, x, 0, 1 / k, y], side, x, y };
}

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function formatMegapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(pixels >= 1e7 ? 0 : 1)} megapixels`;
}

/** The inverse of a 2x3 affine. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!det) throw new RangeError('affine is not invertible');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}
