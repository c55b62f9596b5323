/** Small browser helpers between RgbaImage, canvases, bitmaps and PNG blobs (main thread). */
import type { RgbaImage } from '../../workers/api';

type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;
type Ctx2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

export function makeCanvas(width: number, height: number): { canvas: AnyCanvas; ctx: Ctx2D } {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('2D canvas is not available');
    return { canvas, ctx };
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('2D canvas is not available');
  return { canvas, ctx };
}

export function toImageData(img: RgbaImage): ImageData {
  // copy into a fresh ArrayBuffer-backed array (ImageData rejects shared or odd buffers)
  const data = new Uint8ClampedArray(img.width * img.height * 4);
  data.set(img.data.subarray(0, data.length));
  return new ImageData(data, img.width, img.height);
}

/** Draw a source (bitmap or RgbaImage) at a size, with high-quality smoothing, and read it back. */
export function drawToRgba(
  source: ImageBitmap | RgbaImage,
  width: number,
  height: number,
  crop?: { x: number; y: number; width: number; height: number },
): RgbaImage {
  const { ctx } = makeCanvas(width, height);
  let src: CanvasImageSource;
  if ('data' in source) {
    const c = makeCanvas(source.width, source.height);
    c.ctx.putImageData(toImageData(source), 0, 0);
    src = c.canvas;
  } else {
    src = source;
  }
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  if (crop) ctx.drawImage(src, crop.x, crop.y, crop.width, crop.height, 0, 0, width, height);
  else ctx.drawImage(src, 0, 0, width, height);
  const d = ctx.getImageData(0, 0, width, height);
  return { width, height, data: d.data };
}

export async function encodePng(img: RgbaImage): Promise<Blob> {
  return encodeImage(img, 'png');
}

export type ImageFormat = 'png' | 'jpeg' | 'webp';
export const FORMAT_EXT: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** Encode as PNG (lossless), JPEG or WebP (quality 0..1; JPEG has no alpha: the result is opaque). */
export async function encodeImage(img: RgbaImage, format: ImageFormat, quality = 0.92): Promise<Blob> {
  const { canvas, ctx } = makeCanvas(img.width, img.height);
  ctx.putImageData(toImageData(img), 0, 0);
  const type = `image/${format}`;
  const q = format === 'png' ? undefined : quality;
  if ('convertToBlob' in canvas) return canvas.convertToBlob({ type, ...(q !== undefined ? { quality: q } : {}) });
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(`${format.toUpperCase()} encoding failed`))), type, q),
  );
}

/** Resize with the browser's high-quality smoothing (used to deliver a face crop at its size in the photo). */
export function resizeRgba(img: RgbaImage, width: number, height: number): RgbaImage {
  if (img.width === width && img.height === height) return img;
  const src = makeCanvas(img.width, img.height);
  src.ctx.putImageData(toImageData(img), 0, 0);
  const dst = makeCanvas(width, height);
  dst.ctx.imageSmoothingEnabled = true;
  dst.ctx.imageSmoothingQuality = 'high';
  dst.ctx.drawImage(src.canvas as CanvasImageSource, 0, 0, width, height);
  const d = dst.ctx.getImageData(0, 0, width, height);
  return { width, height, data: d.data };
}

export async function decodeToRgba(blob: Blob): Promise<RgbaImage> {
  const bmp = await createImageBitmap(blob);
  try {
    return drawToRgba(bmp, bmp.width, bmp.height);
  } finally {
    bmp.close();
  }
}

/** A thumbnail that fits in size x size, as a PNG blob. */
export async function thumbnailPng(img: RgbaImage, size: number): Promise<Blob> {
  const k = Math.min(1, size / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * k));
  const h = Math.max(1, Math.round(img.height * k));
  return encodePng(k === 1 ? img : drawToRgba(img, w, h));
}

/** Put an RgbaImage on a visible canvas (resizing the canvas to the image). */
export function paintCanvas(canvas: HTMLCanvasElement, img: RgbaImage): void {
  if (canvas.width !== img.width) canvas.width = img.width;
  if (canvas.height !== img.height) canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx?.putImageData(toImageData(img), 0, 0);
}

/** Save a blob as a file through a temporary link (no network). */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function safeFileStem(name: string): string {
  const stem = name
    .replace(/\.[^.]*$/, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return stem || 'photo';
}
