import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError } from '../workers/models/manifest';
import { loadModelSet } from '../workers/models/loader';
import { FileServer } from '../tests/helpers/models/file-server';
import { sha256Of } from '../tests/helpers/models/fixtures';
import { smallModel } from '../tests/helpers/models/onnx-writer';
import { SpecError, makeManifest, type ManifestSpec } from './make-manifest';

let dir: string;
const fp32 = smallModel({ wRows: 64, batch: 1 });
const fp16 = smallModel({ wRows: 64, batch: 1, float16: true });

const spec = (over: Partial<ManifestSpec> = {}): ManifestSpec => ({
  name: 'tiny',
  version: '0.1.0',
  licence: 'CC0 test data',
  resolution: 64,
  diffusion: { steps: 1000, schedule: 'linear', variance: 'learned-range' },
  alignment: {
    template: [
      [24, 28],
      [40, 28],
      [32, 37],
      [26, 46],
      [38, 46],
    ],
  },
  testOnly: true,
  models: [
    { role: 'prior', fp32: 'onnx/prior.onnx', fp16: 'onnx/prior.fp16.onnx', params: { note: 'kept' } },
    {
      role: 'restorer',
      files: { fp32: 'onnx/prior.onnx' },
      inputs: [{ name: 'x', shape: [1, 64], dtype: 'float32' }],
      outputs: [{ name: 'y', shape: [1, 8], dtype: 'float32' }],
    },
  ],
  ...over,
});

async function writeSpec(s: unknown, name = 'spec.json'): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, JSON.stringify(s));
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'make-manifest-'));
  await mkdir(join(dir, 'onnx'));
  await writeFile(join(dir, 'onnx/prior.onnx'), fp32);
  await writeFile(join(dir, 'onnx/prior.fp16.onnx'), fp16);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('make-manifest', () => {
  it('writes a valid manifest with hashes, sizes, largest tensors and I/O read from the ONNX files', async () => {
    const out = join(dir, 'onnx/manifest.json');
    const m = await makeManifest(await writeSpec(spec()), out);
    const written = JSON.parse(await readFile(out, 'utf8')) as typeof m;
    expect(written).toEqual(m);
    expect(m).toMatchObject({
      name: 'tiny',
      setVersion: '0.1.0',
      alignment: { size: 64 },
      diffusion: { prediction: 'epsilon', timestep: 'original-index' },
    });
    const prior = m.models[0]!;
    expect(prior.files.fp32).toEqual({ path: 'prior.onnx', sha256: sha256Of(fp32), bytes: fp32.byteLength, dtype: 'float32' });
    expect(prior.files.fp16).toEqual({ path: 'prior.fp16.onnx', sha256: sha256Of(fp16), bytes: fp16.byteLength, dtype: 'float16' });
    // W is 64x8: 2048 bytes in float32, 1024 in float16.
    expect(prior.params).toEqual({
      note: 'kept',
      largestTensorBytes: { fp32: 2048, fp16: 1024 },
      largestTensorName: { fp32: 'W', fp16: 'W' },
    });
    expect(prior.inputs).toEqual([
      { name: 'x', shape: [1, 64], dtype: 'float32' },
      { name: 't', shape: [1], dtype: 'int64' },
    ]);
    expect(prior.outputs).toEqual([{ name: 'y', shape: [1, 8], dtype: 'float32' }]);
    expect(m.models[1]!.inputs).toEqual([{ name: 'x', shape: [1, 64], dtype: 'float32' }]);
  });

  it('the manifest it writes loads over HTTP', async () => {
    const out = join(dir, 'served/manifest.json');
    const m = await makeManifest(await writeSpec(spec()), out);
    expect(m.models[0]!.files.fp32.path).toBe('../onnx/prior.onnx');
    const server = await new FileServer().start();
    try {
      server.files.set('/a/served/manifest.json', await readFile(out));
      server.files.set('/a/onnx/prior.onnx', fp32);
      server.files.set('/a/onnx/prior.fp16.onnx', fp16);
      const set = await loadModelSet(
        { kind: 'url', manifestUrl: server.url('/a/served/manifest.json') },
        { store: null, shaderF16: true, deviceLimits: { maxBufferSize: 4096, maxStorageBufferBindingSize: 2048 } },
      );
      expect(set.models.map((x) => [x.role, x.precision])).toEqual([
        ['prior', 'fp16'],
        ['restorer', 'fp32'],
      ]);
      // The restorer's largest tensor (2048 bytes, fp32 only) is over a 1 KiB limit with fp32.
      await expect(
        loadModelSet(
          { kind: 'url', manifestUrl: server.url('/a/served/manifest.json') },
          { store: null, shaderF16: true, deviceLimits: { maxBufferSize: 1024, maxStorageBufferBindingSize: 1024 } },
        ),
      ).rejects.toThrow(/restorer model prior\.onnx \(fp32\) .*largest tensor "W" is 2\.00 KiB \(2048 bytes\)/);
    } finally {
      await server.close();
    }
  });

  it('refuses spec mistakes with clear messages', async () => {
    const out = join(dir, 'bad/manifest.json');
    await expect(makeManifest(await writeSpec(spec({ models: [{ role: 'prior', fp32: 'onnx/missing.onnx' }] })), out)).rejects.toThrow(
      /models\[0\] \(prior\): cannot read .*missing\.onnx/,
    );
    await expect(makeManifest(await writeSpec(spec({ models: [{ role: 'prior', fp32: 'spec.json' }] })), out)).rejects.toThrow(SpecError);
    await expect(
      makeManifest(
        await writeSpec(
          spec({ models: [{ role: 'prior', fp32: 'onnx/prior.onnx', inputs: [{ name: 'image', shape: [1], dtype: 'float32' }] }] }),
        ),
        out,
      ),
    ).rejects.toThrow(/the spec lists input "image" but the model's inputs are "x", "t"/);
    const e = await makeManifest(await writeSpec(spec({ alignment: { template: [[1, 1]], size: 32 } })), out).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ManifestError);
    expect((e as ManifestError).issues.map((i) => i.path)).toEqual(['alignment.size', 'alignment.template']);
  });

  it('runs from the command line', async () => {
    const out = join(dir, 'cli/manifest.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tools/make-manifest.ts', await writeSpec(spec()), out],
      { cwd: process.cwd() },
    );
    expect(stdout).toMatch(
      /prior: \.\.\/onnx\/prior\.onnx \d+ bytes, largest tensor 2048 bytes; fp16 \.\.\/onnx\/prior\.fp16\.onnx \d+ bytes, largest 1024/,
    );
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ format: 'pgdiff-model-set', name: 'tiny' });
    const bad = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'tools/make-manifest.ts',
      join(dir, 'nope.json'),
      out,
    ]).catch((x: { code: number; stderr: string }) => x);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/nope\.json/);
  });
});
