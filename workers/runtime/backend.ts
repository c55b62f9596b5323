import type { BackendKind, Capabilities } from '../api';
import { CodedError } from '../shared/errors';

/**
 * onnxruntime behind one interface (transformers.js style): the engine asks this module to run a
 * graph on named tensors and gets tensor handles back, which may live on the GPU. Nothing else in
 * workers/engine imports onnxruntime, so the same engine runs in the browser worker (WebGPU/WASM)
 * and in Node (CPU) for the CLI and tests.
 */

/** Structural subset of onnxruntime-common's Tensor that we rely on. */
export interface RtTensor {
  readonly dims: readonly number[];
  readonly type: string;
  readonly location: string;
  readonly data?: unknown;
  getData(releaseData?: boolean): Promise<unknown>;
  dispose(): void;
}

interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, RtTensor>): Promise<Record<string, RtTensor>>;
  release(): Promise<void>;
}

/** Structural subset of the onnxruntime module (node or web) that the backend needs. */
export interface OrtLike {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => RtTensor;
  env: Record<string, unknown> & { webgpu?: { device?: unknown } };
}

export interface Session {
  readonly label: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, RtTensor>): Promise<Record<string, RtTensor>>;
  dispose(): Promise<void>;
}

export interface ReadbackStats {
  count: number;
  elements: number;
  largest: number;
}

/** Per-session choices. */
export interface SessionOptions {
  /**
   * 'cpu': run this session on the CPU provider (WASM in the browser) whatever the backend uses, with its
   * outputs in CPU memory: small models run once per photo (the face detector), for which compiling WebGPU
   * shaders takes longer than running them.
   */
  device?: 'cpu';
}

export interface Backend {
  readonly kind: BackendKind;
  createSession(model: Uint8Array, label: string, options?: SessionOptions): Promise<Session>;
  tensor(data: Float32Array, dims: readonly number[]): RtTensor;
  int64(values: readonly number[]): RtTensor;
  /**
   * Read a tensor back to the CPU. Counted (unless `counted` is false, for the final result), so
   * tests can prove what crossed between steps.
   */
  read(t: RtTensor, counted?: boolean): Promise<Float32Array>;
  readonly readbacks: ReadbackStats;
  resetReadbacks(): void;
  /** Wait for queued GPU work (for timing); resolves at once on CPU backends. */
  sync(t: RtTensor): Promise<void>;
  dispose(): Promise<void>;
}

export interface OrtBackendOptions {
  kind: BackendKind;
  executionProviders: unknown[];
  /** the providers of a session created with { device: 'cpu' } (default: executionProviders) */
  cpuExecutionProviders?: unknown[];
  /** keep outputs on the GPU (WebGPU: gpu-buffer) */
  gpuOutputs: boolean;
  extraSessionOptions?: Record<string, unknown>;
}

export type BackendErrorCode = 'gpu-out-of-memory' | 'device-lost' | 'invalid-model' | 'internal';

export class BackendError extends CodedError {
  declare readonly code: BackendErrorCode;
  constructor(
    code: BackendErrorCode,
    message: string,
    readonly label?: string,
  ) {
    super(code, message);
    this.name = 'BackendError';
  }
}

/**
 * Sort an onnxruntime failure into the codes the UI explains to people. onnxruntime reports failures as
 * plain messages only, so this (inside the runtime, where those messages come from) is the one place that reads them.
 */
export function classifyRuntimeError(err: unknown, label: string): BackendError {
  if (err instanceof BackendError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/out of memory|OutOfMemory|allocation failed|bad_alloc|Failed to allocate/i.test(msg)) {
    return new BackendError('gpu-out-of-memory', `Ran out of memory while running ${label}: ${msg}`, label);
  }
  if (/device (was )?lost|GPUDevice.*lost|DeviceLost|device is lost/i.test(msg)) {
    return new BackendError('device-lost', `The GPU device was lost while running ${label}: ${msg}`, label);
  }
  if (/protobuf|Load model|invalid model|INVALID_GRAPH|INVALID_PROTOBUF|Unsupported model IR/i.test(msg)) {
    return new BackendError('invalid-model', `Could not load ${label}: ${msg}`, label);
  }
  return new BackendError('internal', `${label} failed: ${msg}`, label);
}

export function createOrtBackend(ort: OrtLike, opts: OrtBackendOptions): Backend {
  const readbacks: ReadbackStats = { count: 0, elements: 0, largest: 0 };
  const sessions = new Set<Session>();

  return {
    kind: opts.kind,
    readbacks,
    resetReadbacks() {
      readbacks.count = 0;
      readbacks.elements = 0;
      readbacks.largest = 0;
    },
    async createSession(model, label, options) {
      const cpu = options?.device === 'cpu';
      let inner: OrtSessionLike;
      try {
        inner = await ort.InferenceSession.create(model, {
          executionProviders: cpu ? (opts.cpuExecutionProviders ?? opts.executionProviders) : opts.executionProviders,
          graphOptimizationLevel: 'all',
          // errors only: the optimiser's notes (e.g. "Removing initializer ... not used", from the prior's GroupNorm
          // weights kept beside the graph for resuming) flooded the runner's output and the console
          logSeverityLevel: 3,
          ...(opts.gpuOutputs && !cpu ? { preferredOutputLocation: 'gpu-buffer' } : {}),
          ...opts.extraSessionOptions,
        });
      } catch (err) {
        const e = classifyRuntimeError(err, label);
        throw e.code === 'internal' ? new BackendError('invalid-model', e.message, label) : e;
      }
      const session: Session = {
        label,
        inputNames: inner.inputNames,
        outputNames: inner.outputNames,
        async run(feeds) {
          try {
            return await inner.run(feeds);
          } catch (err) {
            throw classifyRuntimeError(err, label);
          }
        },
        async dispose() {
          sessions.delete(session);
          await inner.release();
        },
      };
      sessions.add(session);
      return session;
    },
    tensor(data, dims) {
      return new ort.Tensor('float32', data, dims);
    },
    int64(values) {
      return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
    },
    async read(t, counted = true) {
      const data = (await t.getData()) as Float32Array;
      if (!counted) return data;
      readbacks.count += 1;
      readbacks.elements += data.length;
      readbacks.largest = Math.max(readbacks.largest, data.length);
      return data;
    },
    async sync(t) {
      if (t.location === 'gpu-buffer') {
        // A download is the only portable fence; callers pass a tiny tensor.
        await t.getData();
      }
    },
    async dispose() {
      for (const s of Array.from(sessions)) await s.dispose();
    },
  };
}

/** A one-input model as a function of plain arrays (what workers/faces calls a DetectorRunner). */
export type TensorRunner = (input: Float32Array, dims: number[]) => Promise<Record<string, { data: Float32Array; dims: number[] }>>;

/**
 * The one session adapter for plain-array callers (the face detector and mesh, in the worker and in Node tools):
 * feeds the session's first input, reads every output back and disposes the tensors.
 */
export function tensorRunner(backend: Backend, session: Session): TensorRunner {
  const input = session.inputNames[0];
  if (input === undefined) throw new BackendError('invalid-model', `${session.label} has no input`, session.label);
  return async (data, dims) => {
    const feed = backend.tensor(data, dims);
    try {
      const out = await session.run({ [input]: feed });
      const res: Record<string, { data: Float32Array; dims: number[] }> = {};
      for (const [name, t] of Object.entries(out)) {
        res[name] = { data: await backend.read(t, false), dims: [...t.dims] };
        t.dispose();
      }
      return res;
    } finally {
      feed.dispose();
    }
  };
}

/** Where the engine runs: a backend, what it can do, and news of a lost GPU device. */
export interface Runtime {
  readonly backend: Backend;
  readonly capabilities: Capabilities;
  /** the WebGPU adapter's buffer limits (model files are checked against them before downloading) */
  readonly limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** cb runs once if the GPU device is lost (never on CPU runtimes) */
  onDeviceLost(cb: () => void): void;
}
