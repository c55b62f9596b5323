import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { betasFor, makeDiffusion, spaceTimesteps } from '../../workers/engine/schedule';
import { REPO } from './helpers';

const respacing = JSON.parse(readFileSync(path.join(REPO, 'tests/goldens/respacing.json'), 'utf8')) as {
  T: number;
  respacings: Record<'linear' | 'cosine', Record<string, { kept: number[]; betas: number[] }>>;
};
const schedule = JSON.parse(readFileSync(path.join(REPO, 'tests/goldens/schedule.json'), 'utf8')) as Record<'linear' | 'cosine', number[]>;

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    m = Math.max(m, Math.abs(ai - bi) / Math.max(1e-12, Math.abs(bi)));
  }
  return m;
}

describe('schedules and respacing vs guided-diffusion (tests/goldens)', () => {
  for (const name of ['linear', 'cosine'] as const) {
    it(`${name} betas over 1000 steps`, () => {
      const b = betasFor(name, 1000);
      expect(b.length).toBe(1000);
      expect(relErr(b, schedule[name])).toBeLessThan(1e-12);
    });
    for (const [spec, want] of Object.entries(respacing.respacings[name])) {
      it(`${name} respacing "${spec}" keeps the reference's timesteps and betas`, () => {
        const arg = /^\d+$/.test(spec) ? Number(spec) : spec;
        expect(spaceTimesteps(1000, arg)).toEqual(want.kept);
        const d = makeDiffusion(name, 1000, arg);
        expect(d.timesteps).toEqual(want.kept);
        expect(relErr(d.betas, want.betas)).toBeLessThan(1e-9);
      });
    }
  }

  it("scaled-linear is Stable Diffusion's latent schedule (sqrt(beta) linear, 0.00085 .. 0.012)", () => {
    const b = betasFor('scaled-linear', 1000);
    // values from numpy: np.linspace(sqrt(0.00085), sqrt(0.012), 1000) ** 2 and its cumulative product of 1 - beta
    expect(relErr([b[0]!, b[500]!, b[999]!], [0.00085, 0.00481495414171188, 0.012])).toBeLessThan(1e-12);
    const d = makeDiffusion('scaled-linear', 1000, 1000);
    expect(relErr([d.alphasCumprod[499]!, d.alphasCumprod[999]!], [0.27766965045646763, 0.004660098513077238])).toBeLessThan(1e-9);
    // the reason for it: far more signal left at T than the linear schedule's ~4e-5
    expect(makeDiffusion('linear', 1000, 1000).alphasCumprod[999]!).toBeLessThan(1e-4);
  });

  it('explains impossible respacings', () => {
    expect(() => spaceTimesteps(1000, 'ddpm999')).toThrow(/exactly 999 steps/);
    expect(() => spaceTimesteps(1000, 2000)).toThrow(/cannot divide/);
    expect(() => spaceTimesteps(1000, 'fast')).toThrow(/bad respacing/);
  });
});
