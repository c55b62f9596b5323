/**
 * tools/onnx_vjp (make_vjp) and tools/convert/fp16.py run end to end by the suite on a tiny TAEF2-style network
 * (tools/convert/tiny_e2e.py, Debian python3-torch), then the four graphs run here in onnxruntime-node against
 * torch float64: forward, fp16 forward, VJP, fp16 VJP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readNpy } from './npy';
import { relL2 } from '../../tests/helpers/diff';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('make_vjp + fp16 on a tiny network, end to end', () => {
  it('the exported, differentiated and halved graphs agree with torch float64', { timeout: 300_000 }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tiny-e2e-'));
    execFileSync('/usr/bin/python3', ['-m', 'tools.convert.tiny_e2e', out], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 300_000,
    });
    const arr = (n: string) => readNpy(path.join(out, `${n}.npy`));
    const x = arr('x');
    const c = arr('c');
    const y = arr('y').data as Float32Array;
    const g = arr('g').data as Float32Array;
    const run = async (file: string, feeds: Record<string, ort.Tensor>) => {
      const s = await ort.InferenceSession.create(path.join(out, file), { intraOpNumThreads: 1 });
      const r = await s.run(feeds);
      await s.release();
      return r[s.outputNames[0]!]!.data as Float32Array;
    };
    const xt = new ort.Tensor('float32', x.data as Float32Array, x.shape);
    const ct = new ort.Tensor('float32', c.data as Float32Array, c.shape);
    const errs = {
      forward: relL2(await run('forward.onnx', { x: xt }), y),
      forward16: relL2(await run('forward.fp16.onnx', { x: xt }), y),
      vjp: relL2(await run('vjp.onnx', { input: xt, cotangent: ct }), g),
      vjp16: relL2(await run('vjp.fp16.onnx', { input: xt, cotangent: ct }), g),
    };
    console.info(`tiny e2e relative L2 vs torch float64: ${JSON.stringify(errs)}`);
    expect(errs.forward).toBeLessThan(1e-5);
    expect(errs.vjp).toBeLessThan(1e-4);
    // fp16 weights and activations: ~1e-3 relative (the CPU computes fp16 graphs in fp32 between casts)
    expect(errs.forward16).toBeLessThan(1e-2);
    expect(errs.vjp16).toBeLessThan(5e-2);
    expect(errs.forward16).toBeGreaterThan(0); // really halved
  });
});
