import { describe, expect, it } from 'vitest';
import { Engine, type StepDump } from '../../workers/engine/engine';
import { recordedNoise } from '../../workers/engine/rng';
import { createNodeBackend } from '../../workers/runtime/node';
import { latentGoldensDir, listGoldenCases, loadDecoded, loadGolden, tensorAt } from '../helpers/goldens';
import { goldenRequest } from './golden-request';
import { tinySet } from './tiny-set';

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

// The latent engine (prior over latents, x0_hat decoded to pixels, pixel properties, gradient back through the
// decoder-vjp graph, update rules on the latent) against the Python reference, whose gradient goes through the
// decoder by torch.autograd (tools/reference/make_latent_goldens.py), with the same injected noise.
describe('latent engine vs the Python reference (tests/goldens-latent)', () => {
  const cases = listGoldenCases(latentGoldensDir);
  it('covers every task', () => {
    const tasks = new Set(cases.map((c) => loadGolden(c, latentGoldensDir).config.task));
    for (const t of ['restoration', 'ref_restoration', 'colorization', 'inpainting', 'old_photo_restoration', 'none'])
      expect(tasks).toContain(t);
  });

  for (const name of cases) {
    it(`matches latent golden "${name}" step by step`, async () => {
      const g = loadGolden(name, latentGoldensDir);
      const { request, schedule, variance } = goldenRequest(g);
      request.keepUnmasked = false; // the golden's decoded image is the raw decode
      request.keepLightness = false;
      const engine = new Engine(createNodeBackend(1));
      await engine.load(tinySet(schedule, variance, 'tiny-latent'));
      const dumps: StepDump[] = [];
      let image: Uint8ClampedArray;
      try {
        const res = await engine.restore(request, { noise: recordedNoise(g.noise), onStepDump: (d) => dumps.push(d) });
        image = res.images[0]!.data;
        expect(engine.liveTensors).toBe(0);
      } finally {
        await engine.dispose();
      }
      const n = g.tensorSize;
      expect(dumps.map((d) => d.timestep)).toEqual(g.config.calls.map((c) => c.t_orig));
      const perCall: string[] = [];
      const checks: (() => void)[] = [];
      for (let k = 0; k < g.config.files.grad.count; k++) {
        const x0d = maxAbs(dumps[k]!.x0, tensorAt(g.x0, n, k));
        const gref = tensorAt(g.grad, n, k);
        const gd = maxAbs(dumps[k]!.grad!, gref);
        const gmax = Math.max(1, ...Array.from(gref, Math.abs));
        let dd = 0;
        let nn = 0;
        dumps[k]!.grad!.forEach((v, i) => {
          dd += (v - (gref[i] as number)) ** 2;
          nn += (gref[i] as number) ** 2;
        });
        perCall.push(`${x0d.toExponential(1)}/${gd.toExponential(1)}/rel${Math.sqrt(dd / nn).toExponential(1)}`);
        checks.push(() => {
          expect(x0d, `x0 call ${k}`).toBeLessThanOrEqual(1e-4);
          expect(gd / gmax, `grad call ${k} (relative to its largest value ${gmax.toFixed(2)})`).toBeLessThanOrEqual(1e-4);
        });
      }
      let worst = 0;
      dumps.forEach((d, k) => (worst = Math.max(worst, maxAbs(d.x, tensorAt(g.steps, n, k)))));
      const final = maxAbs(dumps.at(-1)!.x, g.final);
      // the decoded result: RGBA bytes vs the reference decode, truncated as chwToRgba does
      const dec = loadDecoded(name);
      const px = dec.length / 3;
      let byteDiff = 0;
      for (let i = 0; i < px; i++)
        for (let c = 0; c < 3; c++) {
          const want = Math.floor(Math.min(255, Math.max(0, ((dec[c * px + i] as number) + 1) * 127.5)));
          byteDiff = Math.max(byteDiff, Math.abs(want - (image[i * 4 + c] as number)));
        }
      process.stderr.write(
        `latent golden ${name}: calls ${dumps.length}, x0/grad ${perCall.join(' ')}, worst step ${worst.toExponential(2)}, final ${final.toExponential(2)}, image bytes ${byteDiff}\n`,
      );
      for (const c of checks) c();
      const tol = g.config.sampler.sampler === 'ddim' ? 5e-4 : 1e-4;
      expect(worst, 'worst step').toBeLessThanOrEqual(tol);
      expect(final, 'final latent').toBeLessThanOrEqual(tol);
      expect(byteDiff, 'decoded image (bytes, truncation at the boundary)').toBeLessThanOrEqual(1);
    });
  }
});
