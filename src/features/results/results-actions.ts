import type { Affine, RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { downloadBlob, drawToRgba, encodePng, safeFileStem } from '../../app/canvas';
import { engine } from '../../worker-client';
import { AppErrorException, makeError } from '../errors/errors';
import type { RunRecord } from '../history/history-model';
import { historyPhoto } from '../history/history-actions';
import { toOriginalPixels } from '../upload/image-math';

export function cropFileName(run: RunRecord, face: number, variant: number): string {
  const f = run.faces.length > 1 ? `-face${face + 1}` : '';
  const v = (run.faces[0]?.outputs.length ?? 1) > 1 ? `-v${variant + 1}` : '';
  return `${safeFileStem(run.photoName)}-restored${f}${v}.png`;
}

export async function downloadCrop(run: RunRecord, face: number, variant: number): Promise<void> {
  const img = run.faces[face]?.outputs[variant];
  if (!img) return;
  downloadBlob(await encodePng(img), cropFileName(run, face, variant));
}

/**
 * The full photo with every restored face pasted back (variant chosen per face), at the original
 * resolution. Uses the photo on screen when it is the run's photo, else the copy kept in history.
 */
export async function composeFullPhoto(run: RunRecord, variants: number[]): Promise<RgbaImage> {
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
    return await engine.pasteBack(original, pieces);
  } finally {
    if (owned) bitmap.close();
  }
}

export async function downloadFullPhoto(run: RunRecord, variants: number[]): Promise<void> {
  const img = await composeFullPhoto(run, variants);
  downloadBlob(await encodePng(img), `${safeFileStem(run.photoName)}-restored-full.png`);
}
