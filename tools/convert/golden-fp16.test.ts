/**
 * CI check of the converter's fp16 pass (tools/convert/fp16.py), no torch needed:
 * the fp16 graphs that `python3 -m tools.convert.check_golden --write-fixtures` exported from the authors'
 * golden small checkpoints reproduce the golden outputs (recorded with the authors' code) within the
 * tolerance measured when they were made (fixtures/golden-small/tolerance.json), and keep float32 I/O
 * with the manifest's tensor names.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readNpy } from './npy';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures', 'golden-small');
const golden = path.resolve(here, '..', '..', '..', 'shared', 'spec', 'official-checkpoints', 'golden');

interface Tol {
  models: Record<string, { file: string; measuredMaxAbs: number; tolerance: number }>;
}
const tol = JSON.parse(readFileSync(path.join(fixtures, 'tolerance.json'), 'utf8')) as Tol;

function f32(a: ReturnType<typeof readNpy>): Float32Array {
  if (a.dtype !== 'float32') throw new Error(`expected float32, got ${a.dtype}`);
  return a.data as Float32Array;
}

function maxAbs(a: Float32Array, b: Float32Array, offset = 0): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[offset + i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

function maxAbsOf(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

async function open(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path.join(fixtures, file), { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

describe('converter fp16 exports vs the golden outputs', () => {
  it('prior-small.fp16.onnx: x (1,3,64,64) float32, t (1) int64 -> out (1,6,64,64) float32 within the measured tolerance', async () => {
    const spec = tol.models.prior!;
    const s = await open(spec.file);
    expect(s.inputNames).toEqual(['x', 't']);
    expect(s.outputNames).toEqual(['out']);
    const x = readNpy(path.join(golden, 'prior-small.input-x.npy'));
    const t = readNpy(path.join(golden, 'prior-small.input-t.npy'));
    const want = f32(readNpy(path.join(golden, 'prior-small.output.npy')));
    expect(x.shape).toEqual([2, 3, 64, 64]);
    const per = 3 * 64 * 64;
    const outPer = 6 * 64 * 64;
    let worst = 0;
    for (let b = 0; b < 2; b++) {
      const xb = new ort.Tensor('float32', f32(x).slice(b * per, (b + 1) * per), [1, 3, 64, 64]);
      const tb = new ort.Tensor('int64', (t.data as BigInt64Array).slice(b, b + 1), [1]);
      const r = await s.run({ x: xb, t: tb });
      const out = r.out!;
      expect(out.type).toBe('float32');
      expect(out.dims).toEqual([1, 6, 64, 64]);
      worst = Math.max(worst, maxAbs(out.data as Float32Array, want, b * outPer));
    }
    // the golden output is far larger than the tolerance, so a wrong graph cannot pass
    expect(maxAbsOf(want)).toBeGreaterThan(100 * spec.tolerance);
    expect(worst).toBeLessThanOrEqual(spec.tolerance);
    await s.release();
  });

  it('restorer-small.fp16.onnx: x_t, y, t -> out (1,3,64,64) float32 within the measured tolerance', async () => {
    const spec = tol.models.restorer!;
    const s = await open(spec.file);
    expect(s.inputNames).toEqual(['x_t', 'y', 't']);
    expect(s.outputNames).toEqual(['out']);
    const xt = readNpy(path.join(golden, 'restorer-small.input-xt.npy'));
    const y = readNpy(path.join(golden, 'restorer-small.input-y.npy'));
    const t = readNpy(path.join(golden, 'restorer-small.input-t.npy'));
    const want = f32(readNpy(path.join(golden, 'restorer-small.output.npy')));
    const r = await s.run({
      x_t: new ort.Tensor('float32', f32(xt), xt.shape),
      y: new ort.Tensor('float32', f32(y), y.shape),
      t: new ort.Tensor('int64', t.data as BigInt64Array, t.shape),
    });
    const out = r.out!;
    expect(out.type).toBe('float32');
    expect(out.dims).toEqual([1, 3, 64, 64]);
    expect(maxAbsOf(want)).toBeGreaterThan(100 * spec.tolerance);
    expect(maxAbs(out.data as Float32Array, want)).toBeLessThanOrEqual(spec.tolerance);
    await s.release();
  });

  it('the fp16 error is a real fp16 error (non-zero), i.e. the weights really are float16', async () => {
    // fp32 graphs match the golden outputs to ~1e-6; an fp16 graph must not (else the pass did nothing)
    for (const m of Object.values(tol.models)) expect(m.measuredMaxAbs).toBeGreaterThan(1e-5);
    const s = await open(tol.models.restorer!.file);
    const y = readNpy(path.join(golden, 'restorer-small.input-y.npy'));
    const r = await s.run({
      x_t: new ort.Tensor('float32', f32(readNpy(path.join(golden, 'restorer-small.input-xt.npy'))), y.shape),
      y: new ort.Tensor('float32', f32(y), y.shape),
      t: new ort.Tensor('int64', readNpy(path.join(golden, 'restorer-small.input-t.npy')).data as BigInt64Array, [1]),
    });
    const want = f32(readNpy(path.join(golden, 'restorer-small.output.npy')));
    expect(maxAbs(r.out!.data as Float32Array, want)).toBeGreaterThan(1e-6);
    await s.release();
  });
});
