/**
 * The training scripts' smoke modes (tiny models, a few steps, resume, ONNX export) and the exported
 * graphs' agreement with PyTorch, checked with onnxruntime-node (there is no onnxruntime for Python here).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readNpyF32 } from '../../tests/helpers/npy';

const root = path.resolve(import.meta.dirname, '..', '..');
const PY = '/usr/bin/python3';

function smoke(script: string): { onnx: string } {
  const out = execFileSync(PY, [path.join(root, 'tools/train', script), '--smoke'], {
    cwd: root,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const last = out.trim().split('\n').pop() ?? '';
  const j = JSON.parse(last) as { smoke: string; onnx: string };
  expect(j.smoke).toBe('ok');
  return j;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1 };

describe('training smoke runs', () => {
  it('restorer_fusion.py --smoke starts as the restorer alone and learns a correction from y', () => {
    const out = execFileSync(PY, [path.join(root, 'tools/train/restorer_fusion.py'), '--smoke'], { cwd: root, encoding: 'utf8' });
    const j = JSON.parse(out.trim().split('\n').pop() ?? '') as { smoke: string; before: number; after: number };
    expect(j.smoke).toBe('ok');
    expect(j.after).toBeLessThan(0.5 * j.before);
  });

  it('prior.py --smoke trains, resumes and exports an ONNX prior (x, t -> out) that matches torch, at other sizes too', async () => {
    const { onnx } = smoke('prior.py');
    const s = await ort.InferenceSession.create(onnx, opts);
    expect(s.inputNames).toEqual(['x', 't']);
    expect(s.outputNames).toEqual(['out']);
    const x = readNpyF32(`${onnx}.check-x.npy`);
    const ref = readNpyF32(`${onnx}.check-out.npy`);
    const out = await s.run({ x: new ort.Tensor('float32', x.data, x.shape), t: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]) });
    expect(out.out!.dims).toEqual(ref.shape);
    expect(maxAbsDiff(out.out!.data as Float32Array, ref.data)).toBeLessThan(1e-4);
    // dynamic H and W: a 48x48 input runs and keeps its size
    const big = await s.run({
      x: new ort.Tensor('float32', new Float32Array(3 * 48 * 48).fill(0.1), [1, 3, 48, 48]),
      t: new ort.Tensor('int64', BigInt64Array.from([10n]), [1]),
    });
    expect(big.out!.dims).toEqual([1, 3, 48, 48]);
    await s.release();
  });

  it('latent_prior.py --smoke trains on latent chunks, resumes, validates and exports an ONNX latent prior', async () => {
    const { onnx } = smoke('latent_prior.py');
    const s = await ort.InferenceSession.create(onnx, opts);
    expect(s.inputNames).toEqual(['x', 't']);
    const out = await s.run({
      x: new ort.Tensor('float32', new Float32Array(4 * 8 * 8).fill(0.2), [1, 4, 8, 8]),
      t: new ort.Tensor('int64', BigInt64Array.from([10n]), [1]),
    });
    expect(out.out!.dims).toEqual([1, 4, 8, 8]);
    expect(Array.from(out.out!.data as Float32Array).every(Number.isFinite)).toBe(true);
    await s.release();
  });

  it('restorer.py --smoke trains, resumes and exports an ONNX restorer (x_t, y, t -> out) that matches torch', async () => {
    const { onnx } = smoke('restorer.py');
    const s = await ort.InferenceSession.create(onnx, opts);
    expect(s.inputNames).toEqual(['x_t', 'y', 't']);
    const xt = readNpyF32(`${onnx}.check-xt.npy`);
    const y = readNpyF32(`${onnx}.check-y.npy`);
    const ref = readNpyF32(`${onnx}.check-out.npy`);
    const out = await s.run({
      x_t: new ort.Tensor('float32', xt.data, xt.shape),
      y: new ort.Tensor('float32', y.data, y.shape),
      t: new ort.Tensor('int64', BigInt64Array.from([300n]), [1]),
    });
    expect(maxAbsDiff(out.out!.data as Float32Array, ref.data)).toBeLessThan(1e-4);
    await s.release();
  });
});
