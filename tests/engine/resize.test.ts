import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizeChw } from '../../workers/engine/graph/resize';
import { REPO } from './helpers';

const dir = path.join(REPO, 'tests/goldens-resize');
const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { cases: { file: string; in: number; out: number }[] };

// The engine's resize (the matrices the identity property multiplies x0_hat with, on the GPU and on the CPU)
// against torch's F.interpolate(bilinear, antialias=True) itself, downsampling and upsampling
// (tools/reference/make_resize_goldens.py).
describe('antialiased bilinear resize vs torch', () => {
  it.each(index.cases.map((c) => [c.in, c.out, c.file] as const))('%i -> %i', (s, d, file) => {
    const src = new Float32Array(3 * s * s).map((_, i) => Math.fround(Math.sin(i * 0.7)));
    const want = new Float32Array(readFileSync(path.join(dir, file)).buffer.slice(0));
    expect(want.length).toBe(3 * d * d);
    const got = resizeChw(src, 3, s, s, d, d);
    let m = 0;
    for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs((got[i] as number) - (want[i] as number)));
    // torch accumulates the taps in float32 (up to ~10x10 at 512 -> 112)
    expect(m).toBeLessThanOrEqual(5e-5);
  });
});
