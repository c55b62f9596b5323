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
} from './api';
import { Engine, type RunOptions } from './engine/engine';
import { EngineError, toEngineError } from './engine/errors';
import { alignFace, pasteBack } from './faces/alignment';
import { findFaces, type FaceRunners } from './faces/index';
import { ffhqTemplate } from './faces/templates';
import { defaultModelStore, type ModelStore } from './models/cache';
import { clearModelCache, previewManifestFrom, readModelCache } from './models/catalog';
import { ModelLoadError, loadComponents, loadModelSet, FACE_COMPONENTS, type LoadOptions, type LoadedModelSet } from './models/loader';
import { tensorRunner, type Runtime, type Session } from './runtime/backend';
import { detectScratches } from './scratches/detect';
import { Upscaler, componentsLoader } from './upscaler/service';
import { CodedError } from './shared/errors';

export interface EngineServiceOptions {
  /**
   * where public/ is served: bundled sets at <baseUrl>models/<name>/, the face detector and the upscaler at
   * <baseUrl>models/common/face-detector/ and .../upscaler/
   */
  baseUrl: string;
  /** loader plumbing for hosts without Cache Storage or fetch of their own (Node: store null, a file: fetch) */
  loader?: Pick<LoadOptions, 'store' | 'fetch'>;
}

/**
 * The engine behind EngineApi, for every host: the worker (restore.worker.ts), the Node runner
 * (cli/node-engine.ts), the benchmark and the e2e harness. `runtime` makes the runtime (web or Node); it is
 * called once at first use and again after a lost GPU device. The face detector and mesh load through the
 * models module like every model (components manifest at models/common/face-detector/). Failures leave as
 * CodedError, which crosses comlink intact (workers/shared/comlink-errors.ts).
 */
export function createEngineService(runtime: () => Promise<Runtime>, options: EngineServiceOptions): EngineService {
  return new EngineService(runtime, options);
}

export class EngineService implements EngineApi {
  private runtime: Promise<Runtime> | null = null;
  private engineOf: Engine | null = null;
  private loaded: LoadedModelSet | null = null;
  private faceRunners: Promise<FaceRunners> | null = null;
  private faceSessions: Session[] = [];
  private cancelled = new Set<string>();
  private active = new Set<string>();
  private deviceLost = false;

  constructor(
    private readonly makeRuntime: () => Promise<Runtime>,
    private readonly options: EngineServiceOptions,
  ) {}

  private rt(): Promise<Runtime> {
    this.runtime ??= this.makeRuntime().then((r) => {
      this.engineOf = new Engine(r.backend);
      r.onDeviceLost(() => {
        this.deviceLost = true;
      });
      return r;
    });
    return this.runtime;
  }

  /** After a lost device: a new runtime, new sessions, the model bytes we already hold. */
  private async recover(): Promise<void> {
    this.deviceLost = false;
    this.runtime = null;
    this.faceRunners = null;
    this.faceSessions = [];
    await this.rt();
    if (this.loaded) await this.engineOf?.load(this.loaded);
  }

  private async engine(): Promise<Engine> {
    if (this.deviceLost) await this.recover();
    await this.rt();
    const engine = this.engineOf;
    if (!engine?.manifest) throw new EngineError('no-model', 'No model set is loaded yet.');
    return engine;
  }

  /** The loaded set's info (Node callers; the worker returns it from loadModels). */
  get info(): LoadedModelSetInfo | undefined {
    return this.loaded && this.engineOf ? { ...this.loaded.info, backend: this.engineOf.backend.kind } : undefined;
  }

  /** Tensors the engine still holds (0 after a run). */
  get liveTensors(): number {
    return this.engineOf?.liveTensors ?? 0;
  }

  async capabilities(): Promise<Capabilities> {
    return guard(async () => (await this.rt()).capabilities);
  }

  async loadModels(source: ModelSource, onProgress?: ProgressCallback): Promise<LoadedModelSetInfo> {
    return guard(async () => {
      const r = await this.rt();
      let set: LoadedModelSet;
      try {
        set = await loadModelSet(source, {
          ...this.options.loader,
          ...(onProgress ? { onProgress } : {}),
          shaderF16: r.capabilities.shaderF16 && r.backend.kind === 'webgpu',
          ...(r.backend.kind === 'webgpu' && r.limits ? { deviceLimits: r.limits } : {}),
          bundledBaseUrl: this.options.baseUrl,
        });
      } catch (e) {
        // no manifest where the bundled set should be: this copy of the app ships no model
        if (source.kind === 'bundled' && e instanceof ModelLoadError && e.code === 'not-found' && e.file === undefined)
          throw new CodedError('no-model', 'No model is installed in this copy of the app.');
        throw e;
      }
      await (this.engineOf as Engine).load(set, onProgress);
      this.loaded = set;
      return { ...set.info, backend: r.backend.kind };
    });
  }

  async restore(runId: string, request: RestoreRequest, onProgress?: ProgressCallback): Promise<RestoreResult> {
    return guard(async () => {
      const engine = await this.engine();
      this.active.add(runId);
      try {
        return await engine.restore(request, {
          ...(onProgress ? { onProgress } : {}),
          isCancelled: () => this.cancelled.has(runId) || this.deviceLost,
        });
      } catch (err) {
        if (this.deviceLost) throw new EngineError('device-lost', 'The GPU device was lost during the run.');
        if (this.cancelled.has(runId)) onProgress?.({ status: 'cancelled' });
        throw err;
      } finally {
        this.active.delete(runId);
        this.cancelled.delete(runId);
      }
    });
  }

  /** A run with the engine's own options (noise, step dumps, profiling): the Node runner, bench and goldens. */
  async restoreWith(request: RestoreRequest, options: RunOptions = {}): Promise<RestoreResult> {
    return guard(async () => (await this.engine()).restore(request, options));
  }

  async cancel(runId: string): Promise<void> {
    if (this.active.has(runId)) this.cancelled.add(runId);
  }

  async detectFaces(photo: RgbaImage, options?: { quarterTurns?: number }): Promise<DetectedFace[]> {
    return guard(async () => {
      const runners = await this.faceModels();
      return findFaces(photo, runners, { quarterTurns: options?.quarterTurns ?? 0 });
    });
  }

  /** BlazeFace and the face mesh, from their components manifest, on the CPU provider (see SessionOptions). */
  private faceModels(): Promise<FaceRunners> {
    this.faceRunners ??= (async () => {
      const r = await this.rt();
      const { files } = await loadComponents(FACE_COMPONENTS, { ...this.options.loader, bundledBaseUrl: this.options.baseUrl });
      const detector = files['face-detector'];
      if (!detector) throw new EngineError('invalid-model', 'The face components manifest has no "face-detector" model.');
      const session = async (bytes: Uint8Array, label: string) => {
        const s = await r.backend.createSession(bytes, label, { device: 'cpu' });
        this.faceSessions.push(s);
        return tensorRunner(r.backend, s);
      };
      const mesh = files['face-landmarks'];
      return { detector: await session(detector, 'face-detector'), ...(mesh ? { mesh: await session(mesh, 'face-landmarks') } : {}) };
    })();
    // a failed load is tried again on the next call
    this.faceRunners.catch(() => {
      this.faceRunners = null;
    });
    return this.faceRunners;
  }

  async alignFace(photo: RgbaImage, face: DetectedFace): Promise<AlignedFace> {
    return guard(async () => {
      const m = this.loaded?.manifest;
      const size = m?.resolution ?? 512;
      const template = m?.alignment.template ?? ffhqTemplate(512);
      return alignFace(photo, face, template, size);
    });
  }

  async pasteBack(photo: RgbaImage, pieces: { crop: RgbaImage; inverse: Affine }[]): Promise<RgbaImage> {
    return guard(async () => pasteBack(photo, pieces));
  }

  async detectScratches(image: RgbaImage): Promise<RgbaImage> {
    return guard(async () => detectScratches(image));
  }

  private upscaler: Upscaler | null = null;

  /** The super-resolution step (workers/upscaler): ESRGAN-slim on the CPU provider, loaded on first use from its components manifest. */
  async upscale(image: RgbaImage, width: number, height: number, method: UpscaleMethod): Promise<UpscaleResult> {
    return guard(async () => {
      const r = await this.rt();
      this.upscaler ??= new Upscaler({
        // through the models module, as the face detector: manifest, sha256, cache, offline
        loadModels: componentsLoader({ ...this.options.loader, bundledBaseUrl: this.options.baseUrl }),
        createRunner: async (bytes, label) => {
          const s = await r.backend.createSession(bytes, label, { device: 'cpu' });
          return { run: tensorRunner(r.backend, s), release: () => s.dispose() };
        },
      });
      return this.upscaler.upscale(image, width, height, method);
    });
  }

  /** A manifest's summary before anything is downloaded (the Models panel's preview). */
  async previewManifest(source: ManifestPreviewSource): Promise<ManifestPreview> {
    return guard(() => previewManifestFrom(source, this.options.baseUrl, this.options.loader?.fetch as typeof fetch | undefined));
  }

  /** The model cache per set (Cache Storage of the worker; none where the host has no cache). */
  async modelCache(): Promise<ModelCacheInfo> {
    return guard(() => readModelCache(this.cacheStore()));
  }

  async clearModelCache(set?: string): Promise<number> {
    return guard(() => clearModelCache(set, this.cacheStore()));
  }

  private cacheStore(): { store?: ModelStore; warning?: string } {
    const store = this.options.loader?.store;
    if (store === undefined) return defaultModelStore();
    return store ? { store } : { warning: 'This host keeps no model cache.' };
  }

  async dispose(): Promise<void> {
    await this.upscaler?.dispose();
    this.upscaler = null;
    for (const s of this.faceSessions.splice(0)) await s.dispose();
    this.faceRunners = null;
    await this.engineOf?.dispose();
    this.engineOf = null;
    this.runtime = null;
    this.loaded = null;
  }
}

/** Run fn; any failure leaves as a CodedError (the loader's reasons become the app's codes). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof ModelLoadError ? err.toCoded() : toEngineError(err);
  }
}
