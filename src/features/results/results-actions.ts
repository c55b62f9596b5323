import type { Affine, RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { FORMAT_EXT, downloadBlob, drawToRgba, encodeImage, resizeRgba, safeFileStem, type ImageFormat } from '../../app/canvas';
import { engine } from '../../worker-client';
import { AppErrorException, makeError } from '../errors/errors';
import type { RunRecord } from '../history/history-model';
import { historyPhoto } from '../history/history-actions';
import { toOriginalPixels } from '../upload/image-math';

export function cropFileName(run: RunRecord, face: number, variant: number, format: ImageFormat = 'png'): string {
  const f = run.faces.length > 1 ? `-face${face + 1}` : '';
  const v = (run.faces[0]?.outputs.length ?? 1) > 1 ? `-v${variant + 1}` : '';
  return `${safeFileStem(run.photoName)}-restored${f}${v}.${FORMAT_EXT[format]}`;
}

/** How the person wants files: format and quality (JPEG/WebP). */
export interface DownloadOptions {
  format: ImageFormat;
  quality: number;
}

/** The format a download starts with: the photo's own (JPEG stays JPEG, WebP stays WebP), else PNG. */
export function defaultFormat(mime: string | undefined): ImageFormat {
  return mime === 'image/jpeg' ? 'jpeg' : mime === 'image/webp' ? 'webp' : 'png';
}

/**
 * The side of a face crop delivered to the person: the face's size in the original photo (the crop -> original
 * transform's scale), at least the model's resolution, at most 4096.
 */
export function deliveredCropSide(inverseToOriginal: [number, number, number, number, number, number], cropSide: number): number {
  const scale = Math.hypot(inverseToOriginal[0], inverseToOriginal[3]);
  return Math.min(4096, Math.max(cropSide, Math.round(cropSide * scale)));
}

/** One restored face at its size in the original photo (upscaled with high-quality smoothing when larger). */
export function faceAtPhotoSize(run: RunRecord, face: number, variant: number): RgbaImage | undefined {
  const f = run.faces[face];
  const img = f?.outputs[variant];
  if (!f || !img) return undefined;
  const side = deliveredCropSide(toOriginalPixels(f.inverse, run.scale), img.width);
  return resizeRgba(img, side, side);
}

export async function downloadCrop(run: RunRecord, face: number, variant: number, opts: DownloadOptions = { format: 'png', quality: 0.92 }): Promise<void> {
  const img = faceAtPhotoSize(run, face, variant);
  if (!img) return;
  downloadBlob(await encodeImage(img, opts.format, opts.quality), cropFileName(run, face, variant, opts.format));
}

/** Every restored face (each with its chosen variant), one file after another. */
export async function downloadAllFaces(run: RunRecord, variants: number[], opts: DownloadOptions): Promise<void> {
  for (let i = 0; i < run.faces.length; i++) await downloadCrop(run, i, variants[i] ?? 0, opts);
}

/**
 * The full photo with every restored face pasted back (variant chosen per face), at the original
 * resolution. Uses the photo on screen when it is the run's photo, else the copy kept in history.
 */
export async function composeFullPhoto(run: RunRecord, variants: number[]): Promise<RgbaImage> {
  return (await composeWithOriginal(run, variants)).composed;
}

/** The whole photo before and after, scaled down to at most maxSide for the screen. */
export async function wholePhotoPair(run: RunRecord, variants: number[], maxSide = 1024): Promise<{ before: RgbaImage; after: RgbaImage }> {
  const { original, composed } = await composeWithOriginal(run, variants);
  const k = Math.min(1, maxSide / Math.max(original.width, original.height));
  const w = Math.max(1, Math.round(original.width * k));
  const h = Math.max(1, Math.round(original.height * k));
  return { before: resizeRgba(original, w, h), after: resizeRgba(composed, w, h) };
}

async function composeWithOriginal(run: RunRecord, variants: number[]): Promise<{ original: RgbaImage; composed: RgbaImage }> {
  const photo = useAppStore.getState().photo;
  let bitmap: ImageBitmap | undefined;
  let width: number;
  let height: number;
  let owned = false;
  let scale = run.scale;
  if (photo && photo.id === run.photoId) {
    bitmap = photo.bitmap;
    width = photo.width;
    height = photo.height;
    scale = photo.scale;
  } else {
    const kept = await historyPhoto(run.id);
    if (!kept) {
      throw new AppErrorException(
        makeError('bad-input', 'The original photo of this run is not kept.', 'Load the photo again, then re-run this entry to get the full photo.'),
      );
    }
    bitmap = await createImageBitmap(kept.blob, { imageOrientation: 'from-image' });
    owned = true;
    width = bitmap.width;
    height = bitmap.height;
  }
  try {
    const original = drawToRgba(bitmap, width, height);
    const pieces: { crop: RgbaImage; inverse: Affine }[] = [];
    run.faces.forEach((f, i) => {
      const crop = f.outputs[variants[i] ?? 0] ?? f.outputs[0];
      if (crop) pieces.push({ crop, inverse: toOriginalPixels(f.inverse, scale) });
    });
    return { original, composed: await engine.pasteBack(original, pieces) };
  } finally {
    if (owned) bitmap.close();
  }
}

export async function downloadFullPhoto(run: RunRecord, variants: number[], opts: DownloadOptions = { format: 'png', quality: 0.92 }): Promise<void> {
  const img = await composeFullPhoto(run, variants);
  downloadBlob(await encodeImage(img, opts.format, opts.quality), `${safeFileStem(run.photoName)}-restored-full.${FORMAT_EXT[opts.format]}`);
}
