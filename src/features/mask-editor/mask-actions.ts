/**
 * What the mask editor asks of the outside: scratch detection in the worker (on the face at full resolution) and
 * reading a mask image file (checked against the crop and the photo). Both report through the store's mask status
 * (busy flag, error, announcement) and hand the mask they found to the editor, which owns undo and drawing.
 */
import type { RgbaImage } from '../../../workers/api';
import { decodeToRgba } from '../../canvas/canvas';
import { useAppStore } from '../../store';
import type { FaceCrop } from '../../store/facesSlice';
import type { LoadedPhoto } from '../../store/photoSlice';
import { selectActiveCrop } from '../../store/facesSlice';
import { engine } from '../../worker-client';
import { toAppError } from '../errors/errors';
import { cropToWorkingCentres } from '../upload/image-math';
import type { MaskBuffer, MaskImportPlan } from './maskOps';
import { countMasked, maskFromEngine, maskFromImage, planMaskImport, warpMaskToCrop } from './maskOps';
import { alignedCropAt, detectionGeometry, maskFromDetection } from './scratch-source';

/** The photo's geometry an imported mask may match (original or working size), for the active crop. */
export type MaskImportPhoto = NonNullable<Parameters<typeof planMaskImport>[2]>;

export function maskImportPhoto(photo: LoadedPhoto | undefined, active: FaceCrop | undefined): MaskImportPhoto | undefined {
  if (!photo || !active) return undefined;
  return {
    width: photo.width,
    height: photo.height,
    workingWidth: photo.working.width,
    workingHeight: photo.working.height,
    cropToWorking: cropToWorkingCentres(active),
    scale: photo.scale,
  };
}

/** An imported image as a mask for the crop (placed with the face's alignment when it covers the photo), or why not. */
export function maskFromImport(
  img: RgbaImage,
  crop: { width: number; height: number },
  photo: MaskImportPhoto | undefined,
): { mask: MaskBuffer; note?: string } | { error: string } {
  const plan: MaskImportPlan = planMaskImport(img, crop, photo);
  if (plan.kind === 'refuse') return { error: plan.message };
  const mask =
    plan.kind === 'photo' ? warpMaskToCrop(img, plan.cropToMask, crop.width, crop.height) : maskFromImage(img, crop.width, crop.height);
  return plan.note ? { mask, note: plan.note } : { mask };
}

/** Why a chosen file cannot be a mask before reading it (an empty file), or undefined. */
export function emptyFileMessage(file: { name: string; size: number }): string | undefined {
  return file.size === 0 ? `“${file.name}” is empty (0 bytes): choose the mask image again.` : undefined;
}

/** Mark in `mask` every pixel `found` marks (detection adds to what is painted, it never erases). */
export function addMarked(mask: MaskBuffer, found: MaskBuffer): void {
  for (let i = 0; i < mask.data.length; i++) if (found.data[i]) mask.data[i] = 1;
}

/** What the announcer says after scratch detection. */
export function detectionMessage(marked: number, total: number): string {
  return marked
    ? `Scratch detection marked ${((100 * marked) / total).toFixed(1)}% of the face. Check and correct it.`
    : 'No scratches were found.';
}

/**
 * Scratch detection for the crop: on the face at full resolution (up to 512 px) from the original photo when the crop
 * is the active one, else on the crop itself; `apply` receives the detected mask at the crop's size.
 */
export async function detectScratches(crop: RgbaImage, apply: (found: MaskBuffer) => void): Promise<void> {
  const st = useAppStore.getState();
  st.setMaskDetecting(true);
  st.setMaskError(undefined);
  try {
    const active = selectActiveCrop(st);
    const photo = st.photo;
    let source = crop;
    if (photo && active && active.aligned.crop === crop) {
      const at = detectionGeometry(active, photo.scale, crop.width);
      if (at) source = alignedCropAt(photo.bitmap, at.toDetection, at.side);
    }
    const detected = await engine.detectScratches(source);
    const found = source === crop ? maskFromEngine(detected) : maskFromDetection(detected, crop.width, crop.height);
    apply(found);
    st.announce(detectionMessage(countMasked(found), found.data.length));
  } catch (e) {
    st.setMaskError(`Scratch detection failed: ${toAppError(e).message}`);
  } finally {
    useAppStore.getState().setMaskDetecting(false);
  }
}

/** Read a mask image file for the crop; `apply` receives the mask, or the store's mask error says why not. */
export async function importMaskFile(file: File, crop: RgbaImage, apply: (mask: MaskBuffer) => void): Promise<void> {
  const empty = emptyFileMessage(file);
  if (empty) {
    useAppStore.getState().setMaskError(empty);
    return;
  }
  try {
    const img = await decodeToRgba(file);
    const st = useAppStore.getState();
    const result = maskFromImport(img, crop, maskImportPhoto(st.photo, selectActiveCrop(st)));
    if ('error' in result) {
      st.setMaskError(result.error);
      return;
    }
    apply(result.mask);
    st.setMaskError(undefined);
    st.announce(`Mask “${file.name}” imported${result.note ? `: ${result.note}` : ''}.`);
  } catch (e) {
    useAppStore.getState().setMaskError(`Could not read “${file.name}” as an image: ${toAppError(e).message}`);
  }
}
