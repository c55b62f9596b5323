import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Engine, type StepDump } from '../../workers/engine/engine';
import { recordedNoise } from '../../workers/engine/rng';
import { createNodeBackend } from '../../workers/runtime/node';
import { latentGoldensDir, loadGolden } from '../helpers/goldens';
import { goldenRequest } from './golden-request';
import { REPO } from './helpers';
import { tinySet } from './tiny-set';

// The latent gradient the engine uses for a guided step, against central finite differences of the decoder itself
// (float64 sums over float32 decoder outputs): for inpainting, g = dL/dz0 with L = w * sum_keep (x0 - y)^2 and
// x0 = clamp(decoder(z0 * std + mean)), the clamp passed straight through. At the step's own x0_hat, that gradient is
// the gradient of the surrogate S(z) = sum_keep 2 w (x0_hat - y) * decoder(z * std + mean), which finite differences
// can evaluate: this checks the decoder's VJP graph, the chain rule through the normalisation and the mask handling.
describe('latent guided step: the gradient vs finite differences of the decoder', () => {
  it('inpainting, first call: <g, v> = dS/dh along random directions', async () => {
    const g = loadGolden('inpainting', latentGoldensDir);
    const { request, schedule, variance } = goldenRequest(g);
    request.keepUnmasked = false;
    request.keepLightness = false;
    const set = tinySet(schedule, variance, 'tiny-latent');
    const engine = new Engine(createNodeBackend(1));
    await engine.load(set);
    const dumps: StepDump[] = [];
    try {
      await engine.restore(request, { noise: recordedNoise(g.noise), onStepDump: (d) => dumps.push(d), maxCalls: 1 });
    } finally {
      await engine.dispose();
    }
    const { x0: z0, grad } = dumps[0]!;
    const L = set.manifest.latent!;
    const C = L.channels;
    const n = z0.length / C;
    const dir = path.join(REPO, 'tests/fixtures/models/tiny-latent');
    const dec = await ort.InferenceSession.create(readFileSync(path.join(dir, 'decoder.onnx')), { intraOpNumThreads: 1 });
    const decode = async (z: Float64Array): Promise<Float32Array> => {
      const raw = new Float32Array(z.length);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) raw[c * n + i] = z[c * n + i]! * L.std[c]! + L.mean[c]!;
      const out = await dec.run({ latent: new ort.Tensor('float32', raw, [1, C, 16, 16]) });
      return out.image!.data as Float32Array;
    };
    const y = g.inputs.y;
    const mask = g.inputs.mask!;
    const w = g.config.guidance.unmasked_weight;
    const base = Float64Array.from(z0);
    const x0 = (await decode(base)).map((v) => Math.max(-1, Math.min(1, v)));
    const cot = new Float64Array(x0.length);
    for (let i = 0; i < x0.length; i++) cot[i] = mask[i] === 0 ? 2 * w * (x0[i]! - y[i]!) : 0;
    const S = async (z: Float64Array) => {
      const img = await decode(z);
      let s = 0;
      for (let i = 0; i < img.length; i++) s += cot[i]! * img[i]!;
      return s;
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const h = 1e-2;
    const errs: number[] = [];
    for (let k = 0; k < 4; k++) {
      const v = new Float64Array(base.length).map(() => rand());
      const norm = Math.hypot(...v);
      v.forEach((_, i) => (v[i] = v[i]! / norm));
      const plus = base.map((b, i) => b + h * v[i]!);
      const minus = base.map((b, i) => b - h * v[i]!);
      const fd = ((await S(plus)) - (await S(minus))) / (2 * h);
      let an = 0;
      for (let i = 0; i < base.length; i++) an += grad![i]! * v[i]!;
      errs.push(Math.abs(an - fd) / Math.max(1e-6, Math.abs(fd)));
    }
    await dec.release();
    console.info(`latent gradient vs finite differences, relative error per direction: ${errs.map((e) => e.toExponential(1)).join(', ')}`);
    for (const e of errs) expect(e).toBeLessThan(5e-3);
  });
});
