// A stand-in TAEF2-like encoder for the tiny latent set (tests/fixtures/models/tiny-latent), which ships none.
// No Node imports: the unit tests and the e2e harness page both use it.
import { GraphBuilder } from '../../workers/engine/graph/builder';
import type { ModelEntry } from '../../workers/models/manifest-types';

/** 4x4 average pooling, then a fixed 1x1 conv to 4 channels: 64x64 RGB -> 4x16x16. */
export function tinyEncoder(): Uint8Array {
  const g = new GraphBuilder('tiny_encoder');
  const x = g.input('image', [1, 3, 64, 64]);
  const pooled = g.op('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] });
  const w = g.constF([0.5, -0.25, 0.1, 0.2, 0.3, -0.4, -0.1, 0.6, 0.2, 0.3, 0.3, 0.3], [4, 3, 1, 1]);
  g.output(g.op('Conv', [pooled, w]), 'latent', [1, 4, 16, 16]);
  return g.build();
}

/** Its manifest entry, for a file of these bytes and digest. */
export function tinyEncoderEntry(bytes: number, sha256: string): ModelEntry {
  return {
    role: 'encoder',
    files: { fp32: { path: 'encoder.onnx', sha256, bytes, dtype: 'float32' } },
    inputs: [{ name: 'image', shape: [1, 3, 64, 64], dtype: 'float32' }],
    outputs: [{ name: 'latent', shape: [1, 4, 16, 16], dtype: 'float32' }],
  };
}
