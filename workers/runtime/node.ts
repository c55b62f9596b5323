import * as ort from 'onnxruntime-node';
import { createOrtBackend, type Backend, type OrtLike } from './backend';

/** onnxruntime-node on the CPU: the CLI, the tests and the Node side of the benchmark. */
export function createNodeBackend(threads?: number): Backend {
  return createOrtBackend(ort as unknown as OrtLike, {
    kind: 'cpu',
    executionProviders: ['cpu'],
    gpuOutputs: false,
    extraSessionOptions: threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {},
  });
}
