import { afterEach, describe, expect, it } from 'vitest';
import type { RestoreRequest } from '../../workers/api';
import { Engine, type ModelSetBytes } from '../../workers/engine/engine';
import { rgbaToChw } from '../../workers/engine/image';
import { makeDiffusion } from '../../workers/engine/schedule';
import type { NoiseSource } from '../../workers/engine/rng';
import { createNodeBackend } from '../../workers/runtime/node';
import { countPriorCalls, spaceTimesteps, startIndexFor } from '../../workers/shared/steps';
import { latentKeep } from '../../workers/engine/plan';
import { request, squareMask, syntheticImage } from './helpers';
import { tinyEncoder, tinyEncoderEntry } from './tiny-encoder';
import { tinySet } from './tiny-set';

/** Noise that is all zeros: the start is then exactly sqrt(abar) times the estimate. */
const zeros: NoiseSource = { next: (n: number) => new Float32Array(n) };
const img = syntheticImage(64);
const withStart = (task: Parameters<typeof request>[0], start: number, extra: Partial<RestoreRequest> = {}) =>
  request(task, img, { sampler: { kind: 'ddpm', steps: 'ddpm10', seed: 3, start }, ...extra });

function withEncoder(set: ModelSetBytes): ModelSetBytes {
  set.manifest.models.push(tinyEncoderEntry(0, '0'.repeat(64)));
  set.files.encoder = tinyEncoder();
  return set;
}

describe('starting below T (SamplerSettings.start)', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  it('finds the start index on the respaced schedule', () => {
    const kept = spaceTimesteps(1000, 'ddpm10'); // 0, 100, ..., 900
    expect(startIndexFor(kept, 1000, 1)).toBe(9);
    expect(startIndexFor(kept, 1000, 0.5)).toBe(4); // 400 <= 499.5 < 500
    expect(startIndexFor(kept, 1000, 0.01)).toBe(0);
  });

  it('a pixel set starts from the noised photo and runs only the steps below the start', async () => {
    engine = new Engine(createNodeBackend(1));
    await engine.load(tinySet('linear', 'learned-range'));
    const plan = engine.plan(withStart('colorization', 0.5));
    expect(plan.start).toEqual({ index: 4, from: 'photo' });
    expect(plan.callsPerVariant).toBe(5);
    expect(engine.plan(withStart('colorization', 1)).start).toEqual({ index: 9, from: 'noise' });
    // no sampler call: the result is the starting point itself, sqrt(abar_400) * y with zero noise
    const out = (await engine.restore(withStart('colorization', 0.5, { keepLightness: false }), { noise: zeros, maxCalls: 0 })).images[0]!;
    const a = Math.sqrt(makeDiffusion('linear', 1000, 'ddpm10').alphasCumprod[4] as number);
    const y = rgbaToChw(img);
    const n = 64 * 64;
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 3; c++) {
        const want = ((a * (y[c * n + i] as number) + 1) / 2) * 255;
        worst = Math.max(worst, Math.abs((out.data[i * 4 + c] as number) - want));
      }
    expect(worst).toBeLessThanOrEqual(1); // one grey level (rounding); the next index off would be tens of levels
    // inpainting starts from the photo with its hole filled by the surrounding colours, not from the damage
    const mask = syntheticImage(64, 5);
    const inp = engine.plan(withStart('inpainting', 0.5, { mask }));
    expect(inp.start.from).toBe('photo');
    expect(inp.startPhoto).toHaveLength(3 * 64 * 64);
    expect(engine.plan(withStart('inpainting', 1, { mask })).startPhoto).toBeUndefined();
    // a full run makes exactly the planned calls
    const res = await engine.restore(withStart('colorization', 0.5));
    expect(res.stats.priorCalls).toBe(5);
  });

  it('refuses a start outside (0, 1]', async () => {
    engine = new Engine(createNodeBackend(1));
    await engine.load(tinySet('linear', 'learned-range'));
    for (const bad of [0, -0.2, 1.5, Number.NaN])
      expect(() => engine!.plan(withStart('blind', bad))).toThrow(/start is .*fraction of the schedule in \(0, 1\]/);
  });

  it('a latent set encodes its start (the restorer estimate when it reads only y) and needs an encoder for it', async () => {
    engine = new Engine(createNodeBackend(1));
    await engine.load(tinySet('linear', 'fixed-large', 'tiny-latent'));
    expect(() => engine!.plan(withStart('blind', 0.3))).toThrow(/has no encoder, which starting below pure noise needs/);
    await engine.load(withEncoder(tinySet('linear', 'fixed-large', 'tiny-latent')));
    const plan = engine.plan(withStart('blind', 0.3));
    const kept = spaceTimesteps(1000, 'ddpm10');
    expect(plan.start.index).toBe(2);
    expect(plan.start.from).toBe(plan.restorer === 'once' ? 'restorer' : 'photo');
    expect(plan.callsPerVariant).toBe(countPriorCalls(kept.slice(0, 3), 1000, plan.window));
    const seen: number[] = [];
    const res = await engine.restore(withStart('blind', 0.3), { onStepDump: (d) => seen.push(d.timestep) });
    expect(seen).toEqual([200, 100, 0]);
    expect(res.stats.priorCalls).toBe(3);
    expect(res.stats.phaseMs.encoder).toBeGreaterThan(0);
    expect(engine.liveTensors).toBe(0);
    // with zero noise and no sampler call the result is the decoded, scaled start: not the photo, but of its size
    const still = (await engine.restore(withStart('blind', 0.3), { noise: zeros, maxCalls: 0 })).images[0]!;
    expect([still.width, still.height]).toEqual([64, 64]);
  });
});

describe('latent sets keep the unmasked cells of the photo while sampling (blended latents)', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });
  it('marks the cells clear of the mask by a margin', () => {
    // 4 px cells, a hole over pixels 16..31 = cells 4..7; one cell of margin leaves cells 3..8 sampled
    const keep = latentKeep(squareMask(64, 16, 32), 4, 1);
    const row = (i: number) => Array.from(keep.slice(i * 16, i * 16 + 16)).join('');
    expect(row(0)).toBe('1'.repeat(16));
    expect(row(5)).toBe('111000000111111' + '1');
    expect(row(9)).toBe('1'.repeat(16));
    expect(keep.reduce((a, b) => a + b, 0)).toBe(256 - 36);
    // a pixel at the very edge of a cell still counts
    expect(latentKeep(squareMask(64, 3, 4), 4, 0)[0]).toBe(0);
  });

  it("ends on the photo's own latent outside the mask, whatever the noise, and samples the hole", async () => {
    engine = new Engine(createNodeBackend(1));
    await engine.load(withEncoder(tinySet('linear', 'fixed-large', 'tiny-latent')));
    const mask = squareMask(64, 16, 48);
    const req = (seed: number, keepUnmasked = true) =>
      request('inpainting', img, { mask, keepUnmasked, sampler: { kind: 'ddpm', steps: 'ddpm10', seed } });
    const plan = engine.plan(req(1));
    expect(plan.graphs.latentBlend).toBe(true);
    expect(engine.plan(req(1, false)).graphs.latentBlend).toBeUndefined();
    const last = async (seed: number) => {
      let x = new Float32Array(0);
      await engine!.restore(req(seed), { onStepDump: (d) => (x = Float32Array.from(d.x)) });
      return x;
    };
    const a = await last(1);
    const b = await last(2);
    const keep = plan.latentBlend!.keepLat;
    let keptSame = 0;
    let kept = 0;
    let holeDiff = 0;
    for (let c = 0; c < 4; c++)
      for (let k = 0; k < 256; k++) {
        const i = c * 256 + k;
        if (keep[k] === 1) {
          kept++;
          if (a[i] === b[i]) keptSame++;
        } else if (Math.abs(a[i]! - b[i]!) > 1e-3) holeDiff++;
      }
    expect(kept).toBe(4 * (256 - 64)); // cells 4..11 sampled
    expect(keptSame).toBe(kept);
    expect(holeDiff).toBeGreaterThan(4 * 64 * 0.9);
    expect(engine.liveTensors).toBe(0);
  });
});
