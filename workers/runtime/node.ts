import * as ort from 'onnxruntime-node';
import { createOrtBackend, type Backend, type OrtLike, type Runtime } from './backend';

/** onnxruntime-node on the CPU: the CLI, the tests and the Node side of the benchmark. */
export function createNodeBackend(threads?: number): Backend {
  return createOrtBackend(ort as unknown as OrtLike, {
    kind: 'cpu',
    executionProviders: ['cpu'],
    gpuOutputs: false,
    extraSessionOptions: threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {},
  });
}

/** The Node runtime for createEngineService (the CLI, bench): CPU only, so no device is ever lost. */
export function createNodeRuntime(threads?: number): Runtime {
  return {
    backend: createNodeBackend(threads),
    capabilities: { webgpu: false, shaderF16: false, backend: 'cpu', threads: threads ?? 1 },
    onDeviceLost: () => undefined,
  };
}
