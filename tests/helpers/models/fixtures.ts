/** Manifest fixtures for tests: a valid manifest as plain JSON, built around given file bytes. */
import { createHash, randomBytes } from 'node:crypto';

export const sha256Of = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function randomFile(bytes: number): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}

export interface FixtureFile {
  path: string;
  data: Uint8Array;
}

export function fileJson(f: FixtureFile, dtype: 'float32' | 'float16' = 'float32') {
  return { path: f.path, sha256: sha256Of(f.data), bytes: f.data.byteLength, dtype };
}

/** A valid version-1 manifest (64x64) with a prior and, optionally, more entries. */
export function manifestJson(opts: {
  prior: FixtureFile;
  priorFp16?: FixtureFile;
  restorer?: FixtureFile;
  params?: Record<string, unknown>;
  name?: string;
}): Record<string, unknown> {
  const prior: Record<string, unknown> = {
    role: 'prior',
    files: opts.priorFp16 ? { fp32: fileJson(opts.prior), fp16: fileJson(opts.priorFp16, 'float16') } : { fp32: fileJson(opts.prior) },
    inputs: [
      { name: 'x', shape: [1, 3, 64, 64], dtype: 'float32' },
      { name: 't', shape: [1], dtype: 'int64' },
    ],
    outputs: [{ name: 'out', shape: [1, 6, 64, 64], dtype: 'float32' }],
  };
  if (opts.params) prior.params = opts.params;
  const models: Record<string, unknown>[] = [prior];
  if (opts.restorer)
    models.push({
      role: 'restorer',
      files: { fp32: fileJson(opts.restorer) },
      inputs: [
        { name: 'x_t', shape: [1, 3, 64, 64], dtype: 'float32' },
        { name: 'y', shape: [1, 3, 64, 64], dtype: 'float32' },
        { name: 't', shape: [1], dtype: 'int64' },
      ],
      outputs: [{ name: 'x0', shape: [1, 3, 'H', 'W'], dtype: 'float32' }],
    });
  return {
    format: 'pgdiff-model-set',
    version: 1,
    name: opts.name ?? 'fixture',
    setVersion: '0.0.1',
    licence: 'Test data, random bytes.',
    resolution: 64,
    diffusion: { steps: 1000, schedule: 'linear', variance: 'learned-range', prediction: 'epsilon', timestep: 'original-index' },
    alignment: {
      template: [
        [24, 28],
        [40, 28],
        [32, 37],
        [26, 46],
        [38, 46],
      ],
      size: 64,
    },
    preprocessing: { range: '[-1,1]', channels: 'RGB', layout: 'NCHW' },
    models,
    testOnly: true,
  };
}
