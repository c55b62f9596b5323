import type { BackendKind } from '../api';

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

export interface Backend {
  readonly kind: BackendKind;
  createSession(model: Uint8Array, label: string): Promise<Session>;
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
  /** keep outputs on the GPU (WebGPU: gpu-buffer) */
  gpuOutputs: boolean;
  extraSessionOptions?: Record<string, unknown>;
}

export class BackendError extends Error {
  constructor(
    readonly code: 'gpu-out-of-memory' | 'device-lost' | 'invalid-model' | 'internal',
    message: string,
    readonly label?: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/** Sort a runtime failure into the codes the UI explains to people. */
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
    async createSession(model, label) {
      let inner: OrtSessionLike;
      try {
        inner = await ort.InferenceSession.create(model, {
          executionProviders: opts.executionProviders,
          graphOptimizationLevel: 'all',
          ...(opts.gpuOutputs ? { preferredOutputLocation: 'gpu-buffer' } : {}),
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
