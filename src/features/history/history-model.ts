/**
 * Runs as the app keeps them: in memory (RunRecord, raw pixels) and in IndexedDB (StoredRun, PNG
 * blobs). Pure functions with injected encode/decode so they are unit-testable in Node.
 */
import type { Affine, BackendKind, GuidanceSettings, RgbaImage, SamplerSettings, TaskName } from '../../../workers/api';

export interface RunSettings {
  guidance: GuidanceSettings;
  sampler: SamplerSettings;
  variants: number;
}

export interface RunFaceResult {
  /** the crop key at run time */
  cropKey: string;
  /** index of the detected face, -1 when the whole photo was the face */
  faceIndex: number;
  /** the aligned input crop */
  input: RgbaImage;
  /** one image per variant */
  outputs: RgbaImage[];
  /** crop -> working-photo pixels */
  inverse: Affine;
  /** the mask used for this face (white = missing) */
  mask?: RgbaImage;
  /**
   * true when the run kept the photo's own pixels outside `mask` (RestoreRequest.keepUnmasked, or its default): the
   * downloads then put the original photo's pixels back there at their full resolution
   */
  keptUnmasked?: boolean;
  /**
   * true when the run put the photo's lightness back into its result (RestoreRequest.keepLightness, or its default:
   * colorization), outside `mask` when there is one: the downloads then take their lightness from the original photo
   * at its full resolution and only the colour from the enlarged result
   */
  keptLightness?: boolean;
}

export interface RunRecord {
  id: string;
  createdAt: number;
  photoId: string;
  photoName: string;
  /** working = original * scale when the run was made */
  scale: number;
  settings: RunSettings;
  faces: RunFaceResult[];
  references: RgbaImage[];
  modelName: string;
  backend: BackendKind;
  totalMs: number;
  /** sampler steps actually run per variant (from the engine's stats) */
  steps: number;
}

export const STORED_VERSION = 1;

interface StoredFace {
  cropKey: string;
  faceIndex: number;
  input: Blob;
  outputs: Blob[];
  inverse: Affine;
  mask?: Blob;
  keptUnmasked?: boolean;
  keptLightness?: boolean;
}

/** What one IndexedDB record holds. */
export interface StoredRun {
  version: typeof STORED_VERSION;
  id: string;
  createdAt: number;
  photoId: string;
  photoName: string;
  /** the original photo file, for pasting back after a reload (absent when too large to keep) */
  photo?: Blob;
  scale: number;
  settings: RunSettings;
  faces: StoredFace[];
  references: Blob[];
  thumbnail: Blob;
  modelName: string;
  backend: BackendKind;
  totalMs: number;
  steps: number;
}

/** The history list shows these (no full-size pixels). */
export interface HistoryEntry {
  id: string;
  createdAt: number;
  photoName: string;
  task: TaskName;
  settings: RunSettings;
  faceCount: number;
  variantCount: number;
  thumbnail: Blob;
  modelName: string;
  backend: BackendKind;
  totalMs: number;
  steps: number;
}

export type Encode = (img: RgbaImage) => Promise<Blob>;
export type Decode = (blob: Blob) => Promise<RgbaImage>;

export async function toStored(record: RunRecord, photo: Blob | undefined, encode: Encode, thumbnail: Blob): Promise<StoredRun> {
  const faces: StoredFace[] = [];
  for (const f of record.faces) {
    const outputs: Blob[] = [];
    for (const o of f.outputs) outputs.push(await encode(o));
    const face: StoredFace = {
      cropKey: f.cropKey,
      faceIndex: f.faceIndex,
      input: await encode(f.input),
      outputs,
      inverse: [...f.inverse] as Affine,
    };
    if (f.mask) face.mask = await encode(f.mask);
    if (f.mask && f.keptUnmasked) face.keptUnmasked = true;
    if (f.keptLightness) face.keptLightness = true;
    faces.push(face);
  }
  const references: Blob[] = [];
  for (const r of record.references) references.push(await encode(r));
  const stored: StoredRun = {
    version: STORED_VERSION,
    id: record.id,
    createdAt: record.createdAt,
    photoId: record.photoId,
    photoName: record.photoName,
    scale: record.scale,
    settings: structuredCloneSettings(record.settings),
    faces,
    references,
    thumbnail,
    modelName: record.modelName,
    backend: record.backend,
    totalMs: record.totalMs,
    steps: record.steps,
  };
  if (photo) stored.photo = photo;
  return stored;
}

export async function fromStored(stored: StoredRun, decode: Decode): Promise<RunRecord> {
  const faces: RunFaceResult[] = [];
  for (const f of stored.faces) {
    const outputs: RgbaImage[] = [];
    for (const o of f.outputs) outputs.push(await decode(o));
    const face: RunFaceResult = {
      cropKey: f.cropKey,
      faceIndex: f.faceIndex,
      input: await decode(f.input),
      outputs,
      inverse: [...f.inverse] as Affine,
    };
    if (f.mask) face.mask = await decode(f.mask);
    // runs saved before this was recorded read as not kept (their downloads stay as they were)
    if (f.mask && f.keptUnmasked === true) face.keptUnmasked = true;
    if (f.keptLightness === true) face.keptLightness = true;
    faces.push(face);
  }
  const references: RgbaImage[] = [];
  for (const r of stored.references) references.push(await decode(r));
  return {
    id: stored.id,
    createdAt: stored.createdAt,
    photoId: stored.photoId,
    photoName: stored.photoName,
    scale: stored.scale,
    settings: structuredCloneSettings(stored.settings),
    faces,
    references,
    modelName: stored.modelName,
    backend: stored.backend,
    totalMs: stored.totalMs,
    steps: stored.steps,
  };
}

export function entryFromStored(s: StoredRun): HistoryEntry {
  return {
    id: s.id,
    createdAt: s.createdAt,
    photoName: s.photoName,
    task: s.settings.guidance.task,
    settings: structuredCloneSettings(s.settings),
    faceCount: s.faces.length,
    variantCount: s.faces[0]?.outputs.length ?? 0,
    thumbnail: s.thumbnail,
    modelName: s.modelName,
    backend: s.backend,
    totalMs: s.totalMs,
    steps: s.steps,
  };
}

function structuredCloneSettings(s: RunSettings): RunSettings {
  return JSON.parse(JSON.stringify(s)) as RunSettings;
}

const TASKS: readonly TaskName[] = ['blind', 'colorization', 'inpainting', 'reference', 'old-photo', 'custom'];

function isAffine(x: unknown): x is Affine {
  return Array.isArray(x) && x.length === 6 && x.every((v) => typeof v === 'number' && Number.isFinite(v));
}

function isBlobLike(x: unknown): x is Blob {
  return typeof x === 'object' && x !== null && typeof (x as Blob).size === 'number' && typeof (x as Blob).type === 'string';
}

/**
 * Checks a record read back from IndexedDB (it may come from an older app version or be damaged);
 * returns undefined for anything the app cannot show.
 */
export function validateStored(x: unknown): StoredRun | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const s = x as Partial<StoredRun>;
  if (s.version !== STORED_VERSION) return undefined;
  if (typeof s.id !== 'string' || typeof s.createdAt !== 'number' || typeof s.photoName !== 'string') return undefined;
  if (typeof s.scale !== 'number' || !(s.scale > 0)) return undefined;
  const settings = s.settings;
  if (!settings || typeof settings !== 'object') return undefined;
  if (!settings.guidance || !TASKS.includes(settings.guidance.task)) return undefined;
  if (!settings.sampler || typeof settings.sampler.seed !== 'number') return undefined;
  if (typeof settings.variants !== 'number' || settings.variants < 1) return undefined;
  if (!Array.isArray(s.faces) || s.faces.length === 0) return undefined;
  for (const f of s.faces) {
    if (!isBlobLike(f.input) || !Array.isArray(f.outputs) || f.outputs.length === 0) return undefined;
    if (!f.outputs.every(isBlobLike) || !isAffine(f.inverse)) return undefined;
  }
  if (!Array.isArray(s.references) || !isBlobLike(s.thumbnail)) return undefined;
  return s as StoredRun;
}

/** Short label for a history entry's settings, e.g. "Blind restoration · 4 steps · seed 1234 · 2 variants". */
export function describeSettings(s: RunSettings, steps?: number): string {
  const parts = [TASK_LABELS[s.guidance.task]];
  const n = steps ?? (typeof s.sampler.steps === 'number' ? s.sampler.steps : Number(String(s.sampler.steps).slice(4)));
  parts.push(`${n} step${n === 1 ? '' : 's'}`);
  parts.push(`seed ${s.sampler.seed}`);
  if (s.variants > 1) parts.push(`${s.variants} variants`);
  return parts.join(' · ');
}

export const TASK_LABELS: Record<TaskName, string> = {
  blind: 'Blind restoration',
  colorization: 'Colorization',
  inpainting: 'Inpainting',
  reference: 'Reference-based',
  'old-photo': 'Old photo',
  custom: 'Custom guidance',
};

/** Keep at most `max` runs: returns the ids to delete (oldest first beyond the limit). */
export function idsToPrune(entries: { id: string; createdAt: number }[], max: number): string[] {
  return [...entries]
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(Math.max(0, max))
    .map((e) => e.id);
}
