/**
 * The only place that touches the engine worker. Wraps it with comlink, gives every long call an
 * AbortSignal, and replaces the worker when a cancelled run does not stop in time (or it crashes).
 */
import * as Comlink from 'comlink';
import type {
  AlignedFace,
  Affine,
  Capabilities,
  DetectedFace,
  EngineApi,
  LoadedModelSetInfo,
  ManifestPreview,
  ManifestPreviewSource,
  ModelCacheInfo,
  ModelSource,
  ProgressCallback,
  RestoreRequest,
  RestoreResult,
  RgbaImage,
  UpscaleMethod,
  UpscaleResult,
} from '../workers/api';
import { installErrorTransfer } from '../workers/shared/comlink-errors';
import { makeError, toAppError, AppErrorException } from './features/errors/errors';

// the worker's errors arrive as CodedError with their code and hint (it installs the same handler)
installErrorTransfer();

/** How long a cancelled run may take to stop before the worker is replaced. */
export const CANCEL_GRACE_MS = 3000;

type Listener = (reason: 'cancel-timeout' | 'crash') => void;

function newRunId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `run-${Date.now()}-${Math.random()}`;
}

function abortError(): AppErrorException {
  return new AppErrorException(makeError('cancelled'));
}

/** Rejects as soon as the signal aborts (the worker call itself may still be running). */
function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof AppErrorException ? e : new AppErrorException(toAppError(e)));
      },
    );
  });
}

/** A worker method with a trailing AbortSignal: the client's signature, derived from the worker's own. */
type WithSignal<F> = F extends (...args: infer A) => infer R ? (...args: [...A, signal?: AbortSignal]) => R : never;

/**
 * The client's API, derived from EngineApi (squoosh style) so the two cannot drift: every call takes an AbortSignal;
 * restore and cancel are replaced by restore(request, onProgress, signal), which makes the run id and cancels.
 */
export type EngineClientApi = { [K in Exclude<keyof EngineApi, 'restore' | 'cancel' | 'dispose'>]: WithSignal<EngineApi[K]> } & {
  restore(request: RestoreRequest, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<RestoreResult>;
};

export class EngineClient implements EngineClientApi {
  private worker: Worker | undefined;
  private api: Comlink.Remote<EngineApi> | undefined;
  /** the last model source that loaded, re-loaded into a replacement worker */
  private lastSource: ModelSource | undefined;
  private reloading: Promise<unknown> | undefined;
  /** set when a worker was dropped: its replacement re-loads this model set first */
  private pendingReload: ModelSource | undefined;
  private listeners = new Set<Listener>();
  private crashReject = new Set<(e: unknown) => void>();

  /** Called when the worker is replaced, so the UI can tell the person. */
  onRestart(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private remote(): Comlink.Remote<EngineApi> {
    if (!this.api) {
      const worker = new Worker(new URL('../workers/restore.worker.ts', import.meta.url), {
        type: 'module',
        // the worker reads the device it should use from its name ('auto' unless the person chose one)
        name: this.device === 'auto' ? 'pgdiff-engine' : `pgdiff-engine backend=${this.device}`,
      });
      worker.addEventListener('error', (ev) => {
        // an uncaught error at the top level of the worker (e.g. a failed import) kills every call;
        // drop this worker: the next call starts a fresh one (and re-loads the model set first)
        ev.preventDefault();
        if (this.worker !== worker) return;
        this.failPending(makeError('worker-crashed', ev.message || 'The engine worker failed to start.'));
        this.drop();
        this.pendingReload = this.lastSource;
        for (const l of this.listeners) l('crash');
      });
      this.worker = worker;
      const api = Comlink.wrap<EngineApi>(worker);
      this.api = api;
      const source = this.pendingReload;
      this.pendingReload = undefined;
      if (source) {
        // a replacement worker: put the model set back before anything else runs
        const reload: Promise<unknown> = api.loadModels(source).finally(() => {
          if (this.reloading === reload) this.reloading = undefined;
        });
        this.reloading = reload;
      }
    }
    return this.api;
  }

  private failPending(err: ReturnType<typeof makeError>): void {
    for (const reject of this.crashReject) reject(new AppErrorException(err));
    this.crashReject.clear();
  }

  /** Wrap a worker call so a worker crash rejects it instead of hanging forever. */
  private call<T>(fn: (api: Comlink.Remote<EngineApi>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const api = this.remote();
    const p = new Promise<T>((resolve, reject) => {
      this.crashReject.add(reject);
      const wait = this.reloading ?? Promise.resolve();
      wait
        .catch(() => undefined)
        .then(() => fn(api))
        .then(resolve, reject)
        .finally(() => this.crashReject.delete(reject));
    });
    return raceAbort(p, signal);
  }

  private drop(): void {
    if (this.api) this.api[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = undefined;
    this.api = undefined;
  }

  private device: 'auto' | 'webgpu' | 'wasm' = 'auto';

  /**
   * Run on another device: 'webgpu' uses WebGPU even on a software adapter, 'wasm' the CPU, 'auto' WebGPU unless
   * the adapter is a software renderer. Starts a fresh worker (the model set is loaded into it again).
   */
  setDevice(device: 'auto' | 'webgpu' | 'wasm'): Promise<Capabilities> {
    this.device = device;
    this.failPending(makeError('cancelled'));
    this.drop();
    this.pendingReload = this.lastSource;
    return this.capabilities();
  }

  /** Terminate the worker and start a fresh one now (re-loading the last model set into it). */
  restart(reason: 'cancel-timeout' | 'crash'): void {
    this.failPending(makeError(reason === 'crash' ? 'worker-crashed' : 'cancelled'));
    this.drop();
    this.pendingReload = this.lastSource;
    this.remote();
    for (const l of this.listeners) l(reason);
  }

  capabilities(signal?: AbortSignal): Promise<Capabilities> {
    return this.call((api) => api.capabilities(), signal);
  }

  detectFaces(photo: RgbaImage, options?: { quarterTurns?: number }, signal?: AbortSignal): Promise<DetectedFace[]> {
    return this.call((api) => api.detectFaces(photo, options), signal);
  }

  alignFace(photo: RgbaImage, face: DetectedFace, signal?: AbortSignal): Promise<AlignedFace> {
    return this.call((api) => api.alignFace(photo, face), signal);
  }

  pasteBack(photo: RgbaImage, pieces: { crop: RgbaImage; inverse: Affine }[], signal?: AbortSignal): Promise<RgbaImage> {
    return this.call((api) => api.pasteBack(photo, pieces), signal);
  }

  detectScratches(image: RgbaImage, signal?: AbortSignal): Promise<RgbaImage> {
    return this.call((api) => api.detectScratches(image), signal);
  }

  upscale(image: RgbaImage, width: number, height: number, method: UpscaleMethod, signal?: AbortSignal): Promise<UpscaleResult> {
    return this.call((api) => api.upscale(image, width, height, method), signal);
  }

  async loadModels(source: ModelSource, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<LoadedModelSetInfo> {
    const cb = onProgress ? Comlink.proxy(onProgress) : undefined;
    const info = await this.call((api) => api.loadModels(source, cb), signal);
    this.lastSource = source;
    return info;
  }

  previewManifest(source: ManifestPreviewSource, signal?: AbortSignal): Promise<ManifestPreview> {
    return this.call((api) => api.previewManifest(source), signal);
  }

  modelCache(signal?: AbortSignal): Promise<ModelCacheInfo> {
    return this.call((api) => api.modelCache(), signal);
  }

  clearModelCache(set?: string, signal?: AbortSignal): Promise<number> {
    return this.call((api) => api.clearModelCache(set), signal);
  }

  /**
   * Run one restoration. Aborting the signal asks the worker to cancel; if it has not stopped within
   * CANCEL_GRACE_MS the worker is replaced. Either way the promise rejects with code 'cancelled'.
   */
  restore(request: RestoreRequest, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<RestoreResult> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (import.meta.env.DEV) sentRequests.push(summariseRequest(request));
    const runId = newRunId();
    const cb = onProgress ? Comlink.proxy(onProgress) : undefined;
    const api = this.remote();
    const run = this.call((a) => a.restore(runId, request, cb));
    if (!signal) return run;
    return new Promise<RestoreResult>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        api.cancel(runId).catch(() => undefined);
        timer = setTimeout(() => {
          // the worker did not stop in time: replace it
          this.restart('cancel-timeout');
          reject(abortError());
        }, CANCEL_GRACE_MS);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(
        (r) => {
          signal.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          if (signal.aborted) reject(abortError());
          else resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          reject(signal.aborted ? abortError() : e instanceof AppErrorException ? e : new AppErrorException(toAppError(e)));
        },
      );
    });
  }

  dispose(): void {
    this.api?.dispose().catch(() => undefined);
    this.worker?.terminate();
    this.worker = undefined;
    this.api = undefined;
  }
}

/** The app's one engine client. */
export const engine = new EngineClient();

/** What the engine was asked to do, as the e2e tests check it (development builds only). */
export interface RequestSummary {
  task: string;
  image: [number, number];
  mask?: { width: number; height: number; missing: number };
  references: number;
  keepUnmasked?: boolean;
  weights: Record<string, number>;
}

export const sentRequests: RequestSummary[] = [];

/** Pixels counted as missing: any RGB value > 0 (white = missing), as the engine reads masks. */
export function countMissing(mask: { width: number; height: number; data: Uint8ClampedArray }): number {
  let n = 0;
  const d = mask.data;
  for (let i = 0; i < mask.width * mask.height; i++) {
    if ((d[i * 4] as number) > 0 || (d[i * 4 + 1] as number) > 0 || (d[i * 4 + 2] as number) > 0) n++;
  }
  return n;
}

function summariseRequest(r: RestoreRequest): RequestSummary {
  return {
    task: r.guidance.task,
    image: [r.image.width, r.image.height],
    ...(r.mask ? { mask: { width: r.mask.width, height: r.mask.height, missing: countMissing(r.mask) } } : {}),
    references: r.references?.length ?? 0,
    ...(r.keepUnmasked !== undefined ? { keepUnmasked: r.keepUnmasked } : {}),
    weights: { ...(r.guidance.weights as Record<string, number>) },
  };
}
