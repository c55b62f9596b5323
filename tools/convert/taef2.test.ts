/**
 * tools/convert/taef2.py end to end (Debian python3-torch + onnx; onnxruntime-node runs the graphs): the TAEF2
 * encoder, decoder and decoder VJP exported to ONNX and checked on four real faces (../shared/testdata/ref_faces).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

interface Worst {
  max_abs: number;
  rel_l2: number;
}

describe('TAEF2 -> ONNX (encoder, decoder, decoder-vjp)', () => {
  it('matches PyTorch on real faces; the VJP graph equals float64 autograd', { timeout: 600_000 }, () => {
    const out = mkdtempSync(path.join(tmpdir(), 'taef2-'));
    execFileSync('/usr/bin/python3', ['-m', 'tools.convert.taef2', '--out', out, '--res', '128', '--check'], {
      cwd: root,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
    const rep = JSON.parse(readFileSync(path.join(out, 'taef2-report.json'), 'utf8')) as {
      latent: number[];
      check: Record<string, unknown> & { faces: number; round_trip_psnr_db: number[] };
      preview: { matrix: number[]; bias: number[]; fitPsnrDb: number };
    };
    const c = rep.check;
    expect(rep.latent).toEqual([32, 16, 16]);
    expect(c.faces).toBe(4);
    expect((c['encoder.fp32'] as Worst).max_abs).toBeLessThanOrEqual(1e-4);
    expect((c['decoder.fp32'] as Worst).max_abs).toBeLessThanOrEqual(1e-4);
    // the VJP graph is exact: evaluated in float64 it equals float64 autograd
    expect(c.vjp_graph_float64_vs_autograd_rel_l2 as number).toBeLessThanOrEqual(1e-10);
    // in float32 both PyTorch and onnxruntime differ from float64 by ~1e-3 (ReLU kinks flip under rounding):
    // onnxruntime's fp32 VJP must be within 3x of PyTorch's own float32 autograd
    const v = c.vjp_vs_float64_autograd as { torch_float32: number; onnx_fp32: number };
    expect(v.onnx_fp32).toBeLessThanOrEqual(Math.max(3 * v.torch_float32, 1e-5));
    expect(v.onnx_fp32).toBeLessThanOrEqual(1e-2);
    for (const p of c.round_trip_psnr_db) expect(p).toBeGreaterThan(30);
    expect(rep.preview.matrix.length).toBe(3 * 32);
    expect(rep.preview.fitPsnrDb).toBeGreaterThan(15);
  });
});
