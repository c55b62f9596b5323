import type { Affine, RgbaImage, UpscaleMethod, UpscaleResult } from '../../../workers/api';
import { scaleCropInverse } from '../../../workers/upscaler/geometry';
import { useAppStore } from '../../store';
import { FORMAT_EXT, downloadBlob, drawToRgba, encodeImage, resizeRgba, safeFileStem, type ImageFormat } from '../../canvas/canvas';
import { engine } from '../../worker-client';
import { AppErrorException, makeError } from '../errors/errors';
import type { RunRecord } from '../history/history-model';
import { historyPhoto } from '../history/history-actions';
import { cropToOriginalCentres, keepOriginalInCrop, keepOriginalInPhoto, keptOf, type PastedFace } from './keep-original';

export function cropFileName(run: RunRecord, face: number, variant: number, format: ImageFormat = 'png'): string {
  const f = run.faces.length > 1 ? `-face${face + 1}` : '';
  const v = (run.faces[0]?.outputs.length ?? 1) > 1 ? `-v${variant + 1}` : '';
  return `${safeFileStem(run.photoName)}-restored${f}${v}.${FORMAT_EXT[format]}`;
}

/** How the person wants files: format and quality (JPEG/WebP), and how faces are enlarged to their size in the photo. */
export interface DownloadOptions {
  format: ImageFormat;
  quality: number;
  /** the super-resolution step (default) or plain bicubic, for faces larger in the photo than the model's output */
  upscaler?: UpscaleMethod;
}

/** Said when a download asked for ESRGAN and got bicubic (the model did not load). */
export type DownloadNote = string | undefined;

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

/** Enlarged faces already made, per model output and size (a second download does not run the model again). */
const enlarged = new WeakMap<RgbaImage, Map<string, Promise<UpscaleResult>>>();

/**
 * A restored crop at side x side: through the worker's super-resolution step when larger than the model's output
 * (bicubic when asked, or when the model fails to load: then with fallbackReason).
 */
export function enlargeCrop(img: RgbaImage, side: number, method: UpscaleMethod): Promise<UpscaleResult> {
  if (side === img.width && side === img.height) return Promise.resolve({ image: img, method, passes: [] });
  let m = enlarged.get(img);
  if (!m) enlarged.set(img, (m = new Map()));
  const key = `${side}:${method}`;
  let p = m.get(key);
  if (!p) {
    p = engine.upscale(img, side, side, method);
    m.set(key, p);
    // a failure or a bicubic fallback is not kept: the next download tries the model again
    p.then(
      (r) => r.fallbackReason && m.delete(key),
      () => m.delete(key),
    );
  }
  return p;
}

/**
 * One restored face at its size in the original photo (the super-resolution step when larger). What the run kept of
 * the photo comes from the original photo at that size (the model's output only had it at its resolution): its
 * pixels outside the mask, with the engine's feathered edge; its lightness (colorization), with the enlarged result's
 * colour. `original` saves loading the photo again for several faces.
 */
export async function faceAtPhotoSize(
  run: RunRecord,
  face: number,
  variant: number,
  method: UpscaleMethod = 'esrgan',
  original?: RunOriginal,
): Promise<UpscaleResult | undefined> {
  const f = run.faces[face];
  const img = f?.outputs[variant];
  if (!f || !img) return undefined;
  const kept = keptOf(f);
  const photo = kept ? (original ?? (await runOriginal(run))) : undefined;
  const inverse = cropToOriginalCentres(f.inverse, photo?.scale ?? run.scale, f.faceIndex < 0);
  const side = deliveredCropSide(inverse, img.width);
  const r = await enlargeCrop(img, side, method);
  if (!kept || !photo) return r;
  return { ...r, image: keepOriginalInCrop(r.image, photo.image, inverse, img.width, kept) };
}

export async function downloadCrop(
  run: RunRecord,
  face: number,
  variant: number,
  opts: DownloadOptions = { format: 'png', quality: 0.92 },
  original?: RunOriginal,
): Promise<DownloadNote> {
  const r = await faceAtPhotoSize(run, face, variant, opts.upscaler, original);
  if (!r) return undefined;
  downloadBlob(await encodeImage(r.image, opts.format, opts.quality), cropFileName(run, face, variant, opts.format));
  return r.fallbackReason;
}

/** Every restored face (each with its chosen variant), one file after another. */
export async function downloadAllFaces(run: RunRecord, variants: number[], opts: DownloadOptions): Promise<DownloadNote> {
  let note: DownloadNote;
  // the photo is read once for all the faces that need it
  const original = run.faces.some((f) => keptOf(f)) ? await runOriginal(run) : undefined;
  for (let i = 0; i < run.faces.length; i++) note = (await downloadCrop(run, i, variants[i] ?? 0, opts, original)) ?? note;
  return note;
}

/**
 * The full photo with every restored face pasted back (variant chosen per face), at the original
 * resolution. Uses the photo on screen when it is the run's photo, else the copy kept in history.
 */
export async function composeFullPhoto(
  run: RunRecord,
  variants: number[],
  upscaler: UpscaleMethod = 'esrgan',
): Promise<{ image: RgbaImage; note: DownloadNote }> {
  const r = await composeWithOriginal(run, variants, upscaler);
  return { image: r.composed, note: r.note };
}

/** The whole photo before and after, scaled down to at most maxSide for the screen. */
export async function wholePhotoPair(run: RunRecord, variants: number[], maxSide = 1024): Promise<{ before: RgbaImage; after: RgbaImage }> {
  const { original, composed } = await composeWithOriginal(run, variants);
  const k = Math.min(1, maxSide / Math.max(original.width, original.height));
  const w = Math.max(1, Math.round(original.width * k));
  const h = Math.max(1, Math.round(original.height * k));
  return { before: resizeRgba(original, w, h), after: resizeRgba(composed, w, h) };
}

/** A run's original photo at full resolution, and the working copy's scale (working = original * scale). */
export interface RunOriginal {
  image: RgbaImage;
  scale: number;
}

/** The run's original photo: the one on screen when it is the run's photo, else the copy kept in history. */
async function runOriginal(run: RunRecord): Promise<RunOriginal> {
  const photo = useAppStore.getState().photo;
  if (photo && photo.id === run.photoId) return { image: drawToRgba(photo.bitmap, photo.width, photo.height), scale: photo.scale };
  const kept = await historyPhoto(run.id);
  if (!kept) {
    throw new AppErrorException(
      makeError(
        'bad-input',
        'The original photo of this run is not kept.',
        'Load the photo again, then re-run this entry to get the full photo.',
      ),
    );
  }
  const bitmap = await createImageBitmap(kept.blob, { imageOrientation: 'from-image' });
  try {
    return { image: drawToRgba(bitmap, bitmap.width, bitmap.height), scale: run.scale };
  } finally {
    bitmap.close();
  }
}

/**
 * The photo and the photo with the faces pasted back. With `enlarge`, each face larger in the photo than the model's
 * output is first brought to its size there by the super-resolution step (downloads); without, the model's crop is
 * resampled by the paste itself (the on-screen preview, which is scaled down anyway). Where a run kept the photo's
 * pixels outside its mask, the composed photo has the original's own bytes there (the paste resamples the crop);
 * where it kept the lightness, the original's lightness at full resolution with the pasted face's colour.
 */
async function composeWithOriginal(
  run: RunRecord,
  variants: number[],
  enlarge?: UpscaleMethod,
): Promise<{ original: RgbaImage; composed: RgbaImage; note?: DownloadNote }> {
  const { image: original, scale } = await runOriginal(run);
  const pieces: { crop: RgbaImage; inverse: Affine }[] = [];
  const pasted: PastedFace[] = [];
  let note: DownloadNote;
  for (const [i, f] of run.faces.entries()) {
    const crop = f.outputs[variants[i] ?? 0] ?? f.outputs[0];
    if (!crop) continue;
    const inverse = cropToOriginalCentres(f.inverse, scale, f.faceIndex < 0);
    const side = deliveredCropSide(inverse, crop.width);
    const kept = keptOf(f);
    let piece = { crop, inverse };
    if (enlarge && side > crop.width) {
      const r = await enlargeCrop(crop, side, enlarge);
      note = r.fallbackReason ?? note;
      // the kept pixels go in here (the feathered edge is the crop's); the lightness after the paste, in the photo
      const outside = kept?.keptOutside;
      const image = outside ? keepOriginalInCrop(r.image, original, inverse, crop.width, { keptOutside: outside }) : r.image;
      piece = { crop: image, inverse: scaleCropInverse(inverse, side / crop.width) };
    }
    pieces.push(piece);
    pasted.push({ size: piece.crop.width, inverse: piece.inverse, ...kept });
  }
  const composed = await engine.pasteBack(original, pieces);
  return { original, composed: keepOriginalInPhoto(composed, original, pasted), note };
}

export async function downloadFullPhoto(
  run: RunRecord,
  variants: number[],
  opts: DownloadOptions = { format: 'png', quality: 0.92 },
): Promise<DownloadNote> {
  const { image, note } = await composeFullPhoto(run, variants, opts.upscaler);
  downloadBlob(
    await encodeImage(image, opts.format, opts.quality),
    `${safeFileStem(run.photoName)}-restored-full.${FORMAT_EXT[opts.format]}`,
  );
  return note;
}
