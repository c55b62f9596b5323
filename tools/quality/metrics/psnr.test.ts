import { describe, expect, it } from 'vitest';
import { colorStats, cosine, mse, psnr } from './psnr';

describe('PSNR and statistics', () => {
  it('computes PSNR of a known error', () => {
    const a = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const b = new Uint8Array([11, 21, 31, 41, 51, 61]);
    expect(mse(a, b, 2)).toBe(1);
    expect(psnr(a, b, 2)).toBeCloseTo(10 * Math.log10(255 * 255), 10);
    expect(psnr(a, a, 2)).toBe(Infinity);
  });
  it('honours the include mask, RGBA stride and lightness', () => {
    const a = new Uint8Array([0, 0, 0, 255, 100, 100, 100, 255]);
    const b = new Uint8Array([0, 0, 0, 255, 0, 0, 0, 255]);
    expect(mse(a, b, 2, { channels: 4, include: [1, 0] })).toBe(0);
    expect(mse(a, b, 2, { channels: 4, include: [0, 1] })).toBe(10000);
    // a colour shift that keeps the mean of R,G,B has zero lightness error
    const c = new Uint8Array([90, 100, 110]);
    const d = new Uint8Array([110, 100, 90]);
    expect(mse(c, d, 1, { lightness: true })).toBe(0);
    expect(mse(c, d, 1)).toBeGreaterThan(0);
    expect(() => mse(a, b, 2, { channels: 4, include: [0, 0] })).toThrow();
  });
  it('colour statistics and cosine', () => {
    const s = colorStats(new Uint8Array([0, 255, 0, 255, 255, 0]), 2);
    expect(s.mean[0]).toBeCloseTo(0, 10);
    expect(s.mean[1]).toBeCloseTo(1, 10);
    expect(s.std[0]).toBeCloseTo(Math.SQRT2, 10);
    expect(s.std[1]).toBeCloseTo(0, 10);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1, 12);
  });
});
