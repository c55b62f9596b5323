import { describe, expect, it } from 'vitest';
import { aboutDuration, estimateRunMs, formatDuration, overallFraction, stepsPerVariant } from './run-math';

describe('run math', () => {
  it('counts steps for numbers and ddpmN strings', () => {
    expect(stepsPerVariant(4)).toBe(4);
    expect(stepsPerVariant('ddpm100')).toBe(100);
    expect(stepsPerVariant(0)).toBe(1);
  });
  it('overall fraction spans faces and variants', () => {
    const base = { faces: 2, variants: 2, total: 10 };
    expect(overallFraction({ ...base, face: 0, variant: 0, step: 0 })).toBe(0);
    expect(overallFraction({ ...base, face: 0, variant: 1, step: 5 })).toBeCloseTo(15 / 40);
    expect(overallFraction({ ...base, face: 1, variant: 1, step: 10 })).toBe(1);
    expect(overallFraction({ ...base, face: 1, variant: 1, step: 99 })).toBe(1);
  });
  it('formats durations for people', () => {
    expect(formatDuration(400)).toBe('less than a second');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(Number.NaN)).toBe('unknown');
    expect(estimateRunMs(100, 50, 2, 3)).toBe(30_000);
  });

  it('says "less than a second", never "about less than a second"', () => {
    expect(aboutDuration(400)).toBe('less than a second');
    expect(aboutDuration(12_000)).toBe('about 12 s');
  });
});
