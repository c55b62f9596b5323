/**
 * The work in progress survives a reload: the photo, the mask (with the face it was painted on), the reference
 * photos and every setting are saved in IndexedDB shortly after they change and put back when the app starts.
 */
import type { GuidanceSettings, RgbaImage, SamplerSettings } from '../../../workers/api';
import { useAppStore } from '../../store';
import type { AppState } from '../../store';
import type { StyleChoice } from '../../store/controlsSlice';
import type { ReferenceItem } from '../../store/referencesSlice';
import { db } from '../history/history-db';
import { loadPhotoFile } from '../upload/upload-actions';

const KEY = 'current';

export interface StoredSession {
  version: 1;
  savedAt: number;
  photo?: { blob: Blob; name: string };
  alreadyCropped: boolean;
  controls: {
    guidance: GuidanceSettings;
    sampler: SamplerSettings;
    variants: number;
    styleChoice: StyleChoice;
    keepUnmasked: boolean | undefined;
    paperValues: boolean;
  };
  /** the mask and the face (index among detected faces, -1 = the whole photo) it was painted on */
  mask?: { image: RgbaImage; faceIndex: number };
  references: ReferenceItem[];
}

/** What is saved of the store (pure). */
export function snapshot(s: AppState, now = Date.now()): StoredSession {
  const out: StoredSession = {
    version: 1,
    savedAt: now,
    // the person's choice only: a switch the app turned on for an aligned crop is decided again after the reload
    alreadyCropped: s.alreadyCropped && !s.autoAligned,
    controls: {
      guidance: s.guidance,
      sampler: s.sampler,
      variants: s.variants,
      styleChoice: s.styleChoice,
      keepUnmasked: s.keepUnmasked,
      paperValues: s.paperValues,
    },
    references: s.references,
  };
  if (s.photo) out.photo = { blob: s.photo.file, name: s.photo.name };
  const crop = s.crops.find((c) => c.key === (s.maskCropKey ?? s.activeCropKey)) ?? s.crops[0];
  if (s.maskImage && crop) out.mask = { image: s.maskImage, faceIndex: crop.faceIndex };
  return out;
}

/** The parts of the store whose change is worth a save. */
function watched(s: AppState): unknown[] {
  return [
    s.photo,
    s.alreadyCropped,
    s.guidance,
    s.sampler,
    s.variants,
    s.styleChoice,
    s.keepUnmasked,
    s.paperValues,
    s.maskImage,
    s.maskCropKey,
    s.references,
    s.crops,
  ];
}

export async function saveSession(session: StoredSession): Promise<void> {
  await (await db()).put('session', session, KEY);
}

export async function readSession(): Promise<StoredSession | undefined> {
  const v = (await (await db()).get('session', KEY)) as StoredSession | undefined;
  return v && v.version === 1 ? v : undefined;
}

export async function clearSession(): Promise<void> {
  await (await db()).delete('session', KEY);
}

let restoring = false;

/** Save the session (debounced) whenever a watched part of the store changes. */
export function startSessionPersistence(delayMs = 400): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = watched(useAppStore.getState());
  return useAppStore.subscribe((s) => {
    const now = watched(s);
    if (restoring || now.every((v, i) => v === last[i])) return;
    last = now;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      saveSession(snapshot(useAppStore.getState())).catch(() => undefined); // storage full or blocked: keep working
    }, delayMs);
  });
}

/** The saved settings again (after a model set's own defaults were applied on load, the person's choices win). */
export function reapplyControls(saved: StoredSession): void {
  const c = saved.controls;
  useAppStore.setState({ guidance: c.guidance, sampler: c.sampler, variants: c.variants, styleChoice: c.styleChoice });
}

/** Put the saved session back (settings first, then the photo; the mask once its face is aligned again). */
export async function restoreSession(): Promise<StoredSession | undefined> {
  let saved: StoredSession | undefined;
  try {
    saved = await readSession();
  } catch {
    return undefined;
  }
  if (!saved) return undefined;
  restoring = true;
  try {
    const c = saved.controls;
    useAppStore.setState({
      guidance: c.guidance,
      sampler: c.sampler,
      variants: c.variants,
      styleChoice: c.styleChoice,
      keepUnmasked: c.keepUnmasked,
      paperValues: c.paperValues,
      alreadyCropped: saved.alreadyCropped,
    });
    if (saved.references.length) useAppStore.getState().addReferences(saved.references);
  } finally {
    restoring = false;
  }
  if (saved.photo) {
    const mask = saved.mask;
    if (mask) {
      // once the face the mask belongs to is aligned again, the mask goes back on it
      const unsubscribe = useAppStore.subscribe((s) => {
        const crop = s.crops.find((k) => k.faceIndex === mask.faceIndex);
        if (!crop) return;
        unsubscribe();
        if (crop.aligned.crop.width === mask.image.width && crop.aligned.crop.height === mask.image.height) {
          s.setMaskImage(mask.image, crop.key);
        }
      });
    }
    await loadPhotoFile(saved.photo.blob, saved.photo.name);
  }
  useAppStore.getState().announce('Your previous session was restored.');
  return saved;
}
