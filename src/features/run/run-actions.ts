import type { ProgressEvent, RgbaImage, RunStats } from '../../../workers/api';
import { useAppStore } from '../../store';
import type { AppState } from '../../store';
import { selectRequestSettings } from '../../store/controlsSlice';
import { selectMaskImage } from '../../store/maskSlice';
import { selectReferenceImages } from '../../store/referencesSlice';
import { engine } from '../../worker-client';
import { makeError, toAppError } from '../errors/errors';
import type { AppError } from '../errors/errors';
import type { RunFaceResult, RunRecord } from '../history/history-model';
import { restoreRunInputs, saveRunToHistory } from '../history/history-actions';
import { stepsPerVariant } from './run-math';
import { buildFaceRequests, keepsLightness, keepsUnmasked } from './run-requests';

let controller: AbortController | undefined;

/** What stops a run from starting, in words, or undefined when it can start. */
export function runBlocker(s: AppState): AppError | undefined {
  if (!s.modelInfo) {
    return s.modelStatus === 'loading'
      ? makeError('no-model', 'The model is still loading.', 'Wait for it to finish; the Restore button turns on by itself.')
      : makeError('no-model');
  }
  if (!s.photo) return makeError('bad-input', 'Choose a photo first.', 'Use “Choose photo”, drop a file, or paste an image.');
  if (s.crops.length === 0) {
    return makeError('bad-input', 'No face is selected.', 'Pick a face under the photo, or turn on “My photo is already a cropped face”.');
  }
  const task = s.guidance.task;
  const w = s.guidance.weights;
  const mask = selectMaskImage(s);
  if ((task === 'inpainting' || (w.unmasked ?? 0) > 0) && !mask) {
    return makeError(
      'bad-input',
      'Inpainting needs a mask.',
      'Paint over the missing or damaged parts in the mask editor, or import a mask image.',
    );
  }
  if ((task === 'reference' || (w.identity ?? 0) > 0) && selectReferenceImages(s).length === 0) {
    return makeError(
      'bad-input',
      'Reference-based restoration needs a reference photo.',
      'Add a good photo of the same person under “References”.',
    );
  }
  return undefined;
}

function newId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/** Restore every selected face with the current settings. Resolves when done, cancelled or failed. */
export async function startRun(): Promise<RunRecord | undefined> {
  const s = useAppStore.getState();
  if (s.runStatus === 'running' || s.runStatus === 'cancelling') return undefined;
  const blocker = runBlocker(s);
  if (blocker) {
    s.runFailed(blocker);
    return undefined;
  }
  const photo = s.photo;
  const model = s.modelInfo;
  if (!photo || !model) return undefined;
  const settings = selectRequestSettings(s);
  const mask = selectMaskImage(s);
  const references = selectReferenceImages(s);
  const crops = [...s.crops];
  const total = stepsPerVariant(settings.sampler.steps);
  const built = buildFaceRequests(
    { crops, activeCropKey: s.activeCropKey, maskCropKey: s.maskCropKey, mask, references, keepUnmasked: s.keepUnmasked, settings },
    total,
  );
  if ('error' in built) {
    s.runFailed(built.error);
    return undefined;
  }

  const runId = newId();
  controller = new AbortController();
  const signal = controller.signal;
  s.runStarted(runId);
  s.announce('Restoration started.');

  let perVariant = total; // the engine's own count (it can differ, e.g. with several gradient steps)
  const t0 = performance.now();
  let doneBefore = 0; // steps finished in earlier faces
  const faces: RunFaceResult[] = [];
  const stats: RunStats[] = [];
  try {
    for (let fi = 0; fi < built.requests.length; fi++) {
      const { crop, request } = built.requests[fi]!;
      const faceMask = request.mask;
      const onProgress = (ev: ProgressEvent) => {
        if (ev.status !== 'step') return;
        perVariant = ev.total;
        const allSteps = perVariant * settings.variants * crops.length;
        const stepsDone = doneBefore + ev.variant * ev.total + Math.min(ev.step, ev.total);
        const elapsed = performance.now() - t0;
        const msPerStep = stepsDone > 0 ? elapsed / stepsDone : 0;
        const st = useAppStore.getState();
        if (st.runId !== runId) return;
        st.runProgressed(
          {
            face: fi,
            faces: crops.length,
            variant: ev.variant,
            variants: settings.variants,
            step: Math.min(ev.step, ev.total),
            total: ev.total,
            elapsedMs: elapsed,
            etaMs: Math.max(0, (allSteps - stepsDone) * msPerStep),
          },
          ev.preview,
        );
        if (stepsDone >= 2) st.setMeasuredStepMs(msPerStep);
      };
      const result = await engine.restore(request, onProgress, signal);
      doneBefore += perVariant * settings.variants;
      stats.push(result.stats);
      const face: RunFaceResult = {
        cropKey: crop.key,
        faceIndex: crop.faceIndex,
        input: crop.aligned.crop,
        outputs: result.images,
        inverse: crop.aligned.inverse,
      };
      if (faceMask) face.mask = faceMask;
      if (keepsUnmasked(request)) face.keptUnmasked = true;
      if (keepsLightness(request)) face.keptLightness = true;
      faces.push(face);
    }
    const totalMs = performance.now() - t0;
    const first = stats[0];
    const record: RunRecord = {
      id: runId,
      createdAt: Date.now(),
      photoId: photo.id,
      photoName: photo.name,
      scale: photo.scale,
      settings: JSON.parse(JSON.stringify(settings)) as RunRecord['settings'],
      faces,
      references: [...references] as RgbaImage[],
      modelName: model.name,
      backend: first?.backend ?? model.backend,
      totalMs,
      steps: first?.steps ?? total,
    };
    // per model call, as measured during the run (the engine's step events count calls): a start below 1 runs
    // fewer calls than the respaced steps, extra gradient steps more (stats.priorCalls covers every variant)
    const calls = stats.reduce((a, x) => a + x.priorCalls, 0);
    if (calls > 0) useAppStore.getState().setMeasuredStepMs(totalMs / calls);
    useAppStore.getState().runFinished(record);
    useAppStore.getState().announce(`Restoration finished in ${(totalMs / 1000).toFixed(1)} seconds.`);
    void saveRunToHistory(record, photo.file);
    return record;
  } catch (e) {
    const err = toAppError(e);
    const st = useAppStore.getState();
    if (err.code === 'cancelled' || signal.aborted) {
      st.runCancelled();
      st.announce('Restoration cancelled. Your photo and earlier results are kept.');
    } else {
      st.runFailed(err);
      st.announce(`${err.title}. ${err.message}`);
    }
    return undefined;
  } finally {
    if (controller?.signal === signal) controller = undefined;
  }
}

export function cancelRun(): void {
  if (!controller) return;
  useAppStore.getState().runCancelling();
  controller.abort();
}

/** Run again from a history entry: its settings, photo, face crops, mask and references, then the run. */
export async function rerunFromHistory(id: string): Promise<void> {
  if (await restoreRunInputs(id)) await startRun();
}
