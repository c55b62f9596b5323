import type {
  AlignedFace,
  Affine,
  Capabilities,
  DetectedFace,
  EngineApi,
  LoadedModelSetInfo,
  ModelSource,
  ProgressCallback,
  RestoreRequest,
  RestoreResult,
  RgbaImage,
} from './api';
import { Engine, type ModelSetBytes } from './engine/engine';
import { EngineError, toEngineError } from './engine/errors';
import { alignFace, pasteBack } from './faces/alignment';
import type { DetectorRunner } from './faces/detector';
import { findFaces, type FaceRunners } from './faces/index';
import { ffhqTemplate } from './faces/templates';
import { ModelLoadError, loadModelSet, toLoadedModelSetInfo, type LoadedModelSet } from './models/loader';
import type { ModelRole } from './models/manifest-types';
import { createWebRuntime, type DevicePreference, type WebRuntime } from './runtime/web';
import { detectScratches } from './scratches/detect';

const FACE_DETECTOR_PATH = 'models/common/face-detector/blazeface-back.onnx';
const FACE_MESH_PATH = 'models/common/face-detector/facemesh.onnx';

/**
 * The worker's implementation of EngineApi. It owns the runtime (WebGPU or WASM), the engine and
 * the face detector; failures leave as plain EngineErrorInfo objects (comlink keeps only the
 * message of an Error, so we reject with data the UI can sort by code).
 */
export class EngineService implements EngineApi {
  private runtime: WebRuntime | null = null;
  private runtimePromise: Promise<WebRuntime> | null = null;
  private engine: Engine | null = null;
  private loaded: LoadedModelSet | null = null;
  private faceRunners: FaceRunners | null = null;
  private faceSessions: { release(): Promise<void> }[] = [];
  private cancelled = new Set<string>();
  private active = new Set<string>();
  private deviceLost = false;

  constructor(private readonly baseUrl: string, private readonly prefer: DevicePreference = 'auto') {}

  private async rt(): Promise<WebRuntime> {
    if (this.runtime && !this.deviceLost) return this.runtime;
    this.runtimePromise ??= createWebRuntime(this.prefer).then((r) => {
      this.runtime = r;
      this.engine = new Engine(r.backend);
      this.watchDevice(r);
      return r;
    });
    return this.runtimePromise;
  }

  private watchDevice(r: WebRuntime): void {
    const device = (r.ort.env.webgpu as { device?: { lost?: Promise<unknown> } } | undefined)?.device;
    device?.lost?.then(() => {
      this.deviceLost = true;
    });
  }

  /** After a lost device: new sessions on a new runtime, with the model bytes we already hold. */
  private async recover(): Promise<void> {
    this.deviceLost = false;
    this.runtime = null;
    this.runtimePromise = null;
    this.faceRunners = null;
    await this.rt();
    if (this.loaded) await this.engine?.load(toBytes(this.loaded));
  }

  async capabilities(): Promise<Capabilities> {
    return guard(async () => (await this.rt()).capabilities);
  }

  async loadModels(source: ModelSource, onProgress?: ProgressCallback): Promise<LoadedModelSetInfo> {
    return guard(async () => {
      const r = await this.rt();
      const set = await loadModelSet(source, {
        ...(onProgress ? { onProgress } : {}),
        shaderF16: r.capabilities.shaderF16 && r.backend.kind === 'webgpu',
        ...(r.backend.kind === 'webgpu' && r.limits ? { deviceLimits: r.limits } : {}),
        bundledBaseUrl: this.baseUrl,
      });
      const info = await (this.engine as Engine).load(toBytes(set), onProgress);
      this.loaded = set;
      return {
        ...toLoadedModelSetInfo(set, r.backend.kind),
        ...info,
        warnings: set.warnings,
        ...(set.manifest.testOnly ? { testOnly: true } : {}),
      };
    });
  }

  async restore(runId: string, request: RestoreRequest, onProgress?: ProgressCallback): Promise<RestoreResult> {
    return guard(async () => {
      if (this.deviceLost) await this.recover();
      const engine = (await this.rt(), this.engine);
      if (!engine?.manifest) throw new EngineError('no-model', 'No model set is loaded yet.');
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

  async cancel(runId: string): Promise<void> {
    if (this.active.has(runId)) this.cancelled.add(runId);
  }

  async detectFaces(photo: RgbaImage, options?: { quarterTurns?: number }): Promise<DetectedFace[]> {
    return guard(async () => {
      const runners = await this.faceModels();
      return findFaces(photo, runners, { quarterTurns: options?.quarterTurns ?? 0 });
    });
  }

  /**
   * BlazeFace and the face mesh, on the WASM provider: they are small and run once per photo, and
   * WebGPU would spend longer compiling their shaders than running them.
   */
  private async faceModels(): Promise<FaceRunners> {
    if (this.faceRunners) return this.faceRunners;
    const r = await this.rt();
    const load = async (path: string, required: boolean): Promise<DetectorRunner | undefined> => {
      const url = new URL(path, this.baseUrl).href;
      let res: Response;
      try {
        res = await fetch(url);
      } catch (err) {
        if (!required) return undefined;
        throw new EngineError('model-load-failed', `The face detector could not be downloaded from ${url}: ${(err as Error).message}`);
      }
      if (!res.ok) {
        if (!required) return undefined;
        throw new EngineError('model-load-failed', `The face detector could not be loaded (${res.status} at ${url}).`);
      }
      const session = await r.ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), { executionProviders: ['wasm'] });
      this.faceSessions.push(session);
      return async (input, dims) => {
        const out = await session.run({ [session.inputNames[0] ?? 'input']: new r.ort.Tensor('float32', input, dims) });
        const res2: Record<string, { data: Float32Array; dims: number[] }> = {};
        for (const [k, t] of Object.entries(out)) res2[k] = { data: t.data as Float32Array, dims: [...t.dims] };
        return res2;
      };
    };
    const detector = (await load(FACE_DETECTOR_PATH, true)) as DetectorRunner;
    const mesh = await load(FACE_MESH_PATH, false);
    this.faceRunners = { detector, ...(mesh ? { mesh } : {}) };
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

  async dispose(): Promise<void> {
    for (const sess of this.faceSessions) await sess.release();
    this.faceSessions = [];
    this.faceRunners = null;
    await this.engine?.dispose();
    this.engine = null;
    this.runtime = null;
    this.runtimePromise = null;
    this.loaded = null;
  }
}

function toBytes(set: LoadedModelSet): ModelSetBytes {
  const files: Partial<Record<ModelRole, Uint8Array>> = {};
  for (const m of set.models) files[m.role] = m.bytes;
  return { manifest: set.manifest, files };
}

/** Run fn; turn any failure into a plain EngineErrorInfo object for comlink. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ModelLoadError) {
      const e = err;
      throw { code: e.code === 'cancelled' ? 'cancelled' : e.code === 'integrity' || e.code === 'invalid-manifest' ? 'invalid-model' : 'model-load-failed', message: e.message, hint: 'Check the model URL or files in the Models panel, then load again.' };
    }
    throw toEngineError(err).toInfo();
  }
}
