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
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1e-12, Math.abs(b[i] as number)));
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

  it('explains impossible respacings', () => {
    expect(() => spaceTimesteps(1000, 'ddpm999')).toThrow(/exactly 999 steps/);
    expect(() => spaceTimesteps(1000, 2000)).toThrow(/cannot divide/);
    expect(() => spaceTimesteps(1000, 'fast')).toThrow(/bad respacing/);
  });
});
