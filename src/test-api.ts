/**
 * A typed hook for end-to-end tests (window.__pgdiffTest), installed in development builds only.
 * It reads the store and drives the same actions the UI uses; it never fakes results.
 */
import type { ModelSource, SamplerSettings, TaskName } from '../workers/api';
import { useAppStore } from './store';
import { loadModelSet } from './features/models-panel/model-actions';
import { decodeToRgba, drawToRgba } from './canvas/canvas';
import { selectActiveCrop } from './store/facesSlice';
import { countMissing, sentRequests, type RequestSummary } from './worker-client';

export interface TestStateSummary {
  photo?: { name: string; width: number; height: number; workingWidth: number; workingHeight: number; scale: number };
  photoError?: string;
  faceStatus: string;
  faceError?: string;
  faces: number;
  crops: { key: string; width: number; height: number }[];
  modelStatus: string;
  model?: { name: string; resolution: number; backend: string };
  runStatus: string;
  runError?: string;
  progress?: { step: number; total: number; variant: number };
  previewSize?: number;
  currentRun?: { id: string; faces: number; variants: number; width: number; height: number; task: string; steps: number };
  history: { id: string; task: string; seed: number }[];
  task: TaskName;
  maskSize?: number;
  /** missing pixels of the active mask (white = missing) */
  maskMissing?: number;
  references: number;
  backend?: string;
  measuredStepMs?: number;
  engineRestarts: number;
}

export interface PgdiffTestApi {
  state(): TestStateSummary;
  loadModels(source: ModelSource): Promise<boolean>;
  setTask(task: TaskName): void;
  setSampler(patch: Partial<SamplerSettings>): void;
  setVariants(n: number): void;
  /** decode an image (data: URL) and use it as the mask of the active crop, resized to the crop */
  setMaskFromDataUrl(dataUrl: string): Promise<void>;
  /** every request sent to the engine since the page loaded (what the worker received) */
  sentRequests(): RequestSummary[];
  /** the active aligned crop as an 8x8 grey thumbnail (row-major, 0..255): to compare crops */
  cropThumb(): number[] | undefined;
  /** the active mask, one 0/1 per crop pixel (row-major), or undefined when nothing is marked */
  maskPixels(): number[] | undefined;
  /** decode an image (data: URL) and add it as an aligned reference crop */
  addReferenceFromDataUrl(dataUrl: string, name?: string): Promise<void>;
}

declare global {
  interface Window {
    __pgdiffTest?: PgdiffTestApi;
  }
}

/** data: URL -> Blob without fetch (so a strict connect-src CSP does not matter). */
function fromDataUrl(url: string): Blob {
  const comma = url.indexOf(',');
  const type = /^data:([^;,]+)/.exec(url)?.[1] ?? 'application/octet-stream';
  const bin = atob(url.slice(comma + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type });
}

export function installTestApi(): void {
  if (!import.meta.env.DEV) return;
  const api: PgdiffTestApi = {
    state() {
      const s = useAppStore.getState();
      const run = s.currentRun;
      const out: TestStateSummary = {
        faceStatus: s.faceStatus,
        faces: s.faces.length,
        crops: s.crops.map((c) => ({ key: c.key, width: c.aligned.crop.width, height: c.aligned.crop.height })),
        modelStatus: s.modelStatus,
        runStatus: s.runStatus,
        history: s.history.map((h) => ({ id: h.id, task: h.task, seed: h.settings.sampler.seed })),
        task: s.guidance.task,
        references: s.references.length,
        engineRestarts: s.engineRestarts,
      };
      if (s.photo) {
        out.photo = {
          name: s.photo.name,
          width: s.photo.width,
          height: s.photo.height,
          workingWidth: s.photo.working.width,
          workingHeight: s.photo.working.height,
          scale: s.photo.scale,
        };
      }
      if (s.photoError) out.photoError = s.photoError.code;
      if (s.faceError) out.faceError = s.faceError.code;
      if (s.modelInfo) out.model = { name: s.modelInfo.name, resolution: s.modelInfo.resolution, backend: s.modelInfo.backend };
      if (s.runError) out.runError = s.runError.code;
      if (s.runProgress) out.progress = { step: s.runProgress.step, total: s.runProgress.total, variant: s.runProgress.variant };
      if (s.runPreview) out.previewSize = s.runPreview.width;
      if (run) {
        out.currentRun = {
          id: run.id,
          faces: run.faces.length,
          variants: run.faces[0]?.outputs.length ?? 0,
          width: run.faces[0]?.outputs[0]?.width ?? 0,
          height: run.faces[0]?.outputs[0]?.height ?? 0,
          task: run.settings.guidance.task,
          steps: run.steps,
        };
      }
      if (s.maskImage) {
        out.maskSize = s.maskImage.width;
        out.maskMissing = countMissing(s.maskImage);
      }
      if (s.capabilities) out.backend = s.capabilities.backend;
      if (s.measuredStepMs !== undefined) out.measuredStepMs = s.measuredStepMs;
      return out;
    },
    loadModels: (source) => loadModelSet(source),
    setTask: (task) => useAppStore.getState().setTask(task),
    setSampler: (patch) => useAppStore.getState().setSampler(patch),
    setVariants: (n) => useAppStore.getState().setVariants(n),
    sentRequests: () => sentRequests.map((r) => ({ ...r })),
    maskPixels() {
      const m = useAppStore.getState().maskImage;
      if (!m) return undefined;
      return Array.from({ length: m.width * m.height }, (_, i) => ((m.data[i * 4] as number) > 0 ? 1 : 0));
    },
    cropThumb() {
      const crop = selectActiveCrop(useAppStore.getState())?.aligned.crop;
      if (!crop) return undefined;
      const t = drawToRgba(crop, 8, 8);
      return Array.from({ length: 64 }, (_, i) => (t.data[i * 4]! + t.data[i * 4 + 1]! + t.data[i * 4 + 2]!) / 3);
    },
    async setMaskFromDataUrl(dataUrl) {
      const crop = selectActiveCrop(useAppStore.getState());
      if (!crop) throw new Error('no crop to mask');
      const img = await decodeToRgba(fromDataUrl(dataUrl));
      const size = crop.aligned.crop.width;
      useAppStore.getState().setMaskImage(drawToRgba(img, size, size), crop.key);
    },
    async addReferenceFromDataUrl(dataUrl, name = 'reference') {
      const img = await decodeToRgba(fromDataUrl(dataUrl));
      useAppStore.getState().addReferences([{ id: `${name}-${Date.now()}`, name, crop: img }]);
    },
  };
  window.__pgdiffTest = api;
}
