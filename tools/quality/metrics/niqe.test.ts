import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { gammaFn, imresize, niqe, pinvSym, rgbToY } from './niqe';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '..', '..', '..', '..', 'shared', 'metrics', 'niqe');

async function loadRgb(file: string) {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('NIQE (BasicSR / MATLAB)', () => {
  it('gives 5.7296 on baboon.png (MATLAB 5.72957338, BasicSR 5.7295763)', async () => {
    const img = await loadRgb(path.join(shared, 'baboon.png'));
    const v = niqe(img.data, img.width, img.height);
    expect(Math.abs(v - 5.7296)).toBeLessThan(0.01);
  });

  it('scores a blurred baboon worse than the original', async () => {
    const file = path.join(shared, 'baboon.png');
    const img = await loadRgb(file);
    const blur = await sharp(file).removeAlpha().blur(3).raw().toBuffer();
    expect(niqe(blur, img.width, img.height)).toBeGreaterThan(niqe(img.data, img.width, img.height) + 1);
  });

  it('rejects images smaller than one block', () => {
    expect(() => niqe(new Uint8Array(50 * 50 * 3), 50, 50)).toThrow();
  });

  it('gamma, Y conversion, imresize and pinv behave', () => {
    expect(gammaFn(5)).toBeCloseTo(24, 10);
    expect(gammaFn(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 12);
    const y = rgbToY(new Uint8Array([255, 255, 255, 0, 0, 0]), 2, 1);
    expect(Array.from(y.data)).toEqual([235, 16]);
    // MATLAB imresize of a constant image stays constant; of a ramp keeps the mean
    const c = imresize({ width: 8, height: 8, data: new Float64Array(64).fill(0.3) }, 0.5);
    expect(c.width).toBe(4);
    for (const v of c.data) expect(v).toBeCloseTo(0.3, 12);
    const a = new Float64Array([4, 1, 0, 1, 3, 0, 0, 0, 0]);
    const inv = pinvSym(a, 3);
    // [[4,1],[1,3]]^-1 = [[3,-1],[-1,4]]/11, zero row/col stays zero
    expect(inv[0]).toBeCloseTo(3 / 11, 12);
    expect(inv[1]).toBeCloseTo(-1 / 11, 12);
    expect(inv[4]).toBeCloseTo(4 / 11, 12);
    expect(inv[8]).toBe(0);
  });
});
