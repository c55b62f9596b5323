import { useAppStore } from '../../store';
import type { FaceCrop } from '../../store/facesSlice';
import { decodeToRgba, encodePng, thumbnailPng } from '../../canvas/canvas';
import { decodePhoto } from '../upload/decode';
import { invertAffine } from '../upload/image-math';
import { toAppError } from '../errors/errors';
import type { HistoryEntry, RunRecord, RunSettings } from './history-model';
import { fromStored, toStored } from './history-model';
import { deleteRun, getRun, getRunPhoto, listHistory, saveRun } from './history-db';

/** Photos larger than this are not copied into the history (results still are). */
const MAX_STORED_PHOTO_BYTES = 25 * 1024 * 1024;

export async function loadHistory(): Promise<void> {
  try {
    useAppStore.getState().setHistory(await listHistory());
  } catch (e) {
    useAppStore.getState().setHistory([]);
    useAppStore
      .getState()
      .setHistoryError(
        `History is not available in this browser (${toAppError(e).message}). Results are still shown, but not kept after a reload.`,
      );
  }
}

export async function saveRunToHistory(record: RunRecord, photo: Blob | undefined): Promise<HistoryEntry | undefined> {
  try {
    const firstOut = record.faces[0]?.outputs[0];
    if (!firstOut) return undefined;
    const thumb = await thumbnailPng(firstOut, 96);
    // the photo is kept once per photo in its own store, not inside each run
    const stored = await toStored(record, undefined, encodePng, thumb);
    const pruned = await saveRun(stored, photo && photo.size <= MAX_STORED_PHOTO_BYTES ? photo : undefined);
    const st = useAppStore.getState();
    pruned.forEach((id) => st.removeHistoryEntry(id));
    const entry: HistoryEntry = {
      id: record.id,
      createdAt: record.createdAt,
      photoName: record.photoName,
      task: record.settings.guidance.task,
      settings: record.settings,
      faceCount: record.faces.length,
      variantCount: firstOut ? (record.faces[0]?.outputs.length ?? 0) : 0,
      thumbnail: thumb,
      modelName: record.modelName,
      backend: record.backend,
      totalMs: record.totalMs,
      steps: record.steps,
    };
    st.addHistoryEntry(entry);
    st.setHistoryError(undefined);
    return entry;
  } catch (e) {
    useAppStore.getState().setHistoryError(`This run could not be saved to the history: ${toAppError(e).message}`);
    return undefined;
  }
}

/** Put a run's settings back into the controls. */
export function applySettings(settings: RunSettings): void {
  const s = JSON.parse(JSON.stringify(settings)) as RunSettings;
  useAppStore.setState({ guidance: s.guidance, sampler: s.sampler, variants: s.variants });
}

/** Show a past run's results. */
export async function openHistoryEntry(id: string): Promise<RunRecord | undefined> {
  const stored = await getRun(id);
  if (!stored) {
    useAppStore.getState().setHistoryError('This history entry could not be read. It may come from an older version.');
    return undefined;
  }
  const record = await fromStored(stored, decodeToRgba);
  useAppStore.getState().setCurrentRun(record);
  return record;
}

/** The stored photo of a run (to paste back after a reload), decoded, or undefined. */
export async function historyPhoto(id: string): Promise<{ blob: Blob; name: string } | undefined> {
  const stored = await getRun(id);
  const blob = stored ? await getRunPhoto(stored) : undefined;
  return stored && blob ? { blob, name: stored.photoName } : undefined;
}

/**
 * Put a history entry's inputs back for a re-run: its settings, its photo (when kept), its face crops, mask and
 * references. False (with the reason in the history error) when the entry cannot be re-run. The run itself is
 * started by `rerunFromHistory` in run-actions, which imports this module (never the other way round).
 */
export async function restoreRunInputs(id: string): Promise<boolean> {
  const st = useAppStore.getState();
  const stored = await getRun(id);
  if (!stored) {
    st.setHistoryError('This history entry could not be read.');
    return false;
  }
  const record = await fromStored(stored, decodeToRgba);
  const model = st.modelInfo;
  const size = record.faces[0]?.input.width;
  if (model && size !== model.resolution) {
    st.setHistoryError(
      `This run was made with a ${size}×${size} model; the loaded model works at ${model.resolution}×${model.resolution}. Load that model set to re-run it.`,
    );
    return false;
  }
  applySettings(record.settings);
  let photoId = record.photoId;
  const current = useAppStore.getState().photo;
  const keptPhoto = current?.id !== record.photoId ? await getRunPhoto(stored) : undefined;
  if (keptPhoto) {
    try {
      const photo = await decodePhoto(keptPhoto, stored.photoName);
      photo.id = record.photoId;
      useAppStore.getState().photoLoaded(photo);
      photoId = photo.id;
    } catch {
      // the crops alone are enough to re-run
    }
  }
  const crops: FaceCrop[] = record.faces.map((f) => ({
    key: f.cropKey.startsWith(photoId) ? f.cropKey : `${photoId}:history-${f.faceIndex}:${f.input.width}`,
    faceIndex: f.faceIndex,
    aligned: { crop: f.input, inverse: f.inverse, transform: invertAffine(f.inverse) },
  }));
  useAppStore.setState({ faces: [], selectedFaces: [] });
  useAppStore.getState().facesAligned(crops);
  const masked = record.faces.findIndex((f) => f.mask);
  const maskFace = record.faces[masked];
  const maskCrop = crops[masked];
  useAppStore.getState().setMaskImage(maskFace?.mask, maskCrop?.key);
  useAppStore.getState().clearReferences();
  if (record.references.length) {
    useAppStore
      .getState()
      .addReferences(record.references.map((crop, i) => ({ id: `${record.id}-ref-${i}`, name: `reference ${i + 1}`, crop })));
  }
  return true;
}

export async function removeHistoryEntry(id: string): Promise<void> {
  await deleteRun(id);
  useAppStore.getState().removeHistoryEntry(id);
  const cur = useAppStore.getState().currentRun;
  if (cur?.id === id) useAppStore.getState().setCurrentRun(undefined);
}
