import { describe, expect, it } from 'vitest';
import { squareMask as square } from '../../../tests/helpers/pixel-geometry';
import { carryMask } from './faces-actions';

describe('carryMask ("already cropped" flipped)', () => {
  it('moves a painted block through the photo onto the new crop', () => {
    // old crop: the photo's region 32..96 at 1:1 (photo -> crop subtracts 32); new crop: the whole 128 px photo at 64 px
    const mask = square(64, 10, 20); // photo 42..52
    const out = carryMask(mask, [1, 0, -32, 0, 1, -32], [2, 0, 0, 0, 2, 0], 64, 64);
    if (!out) throw new Error('mask lost');
    const at = (x: number, y: number) => (out.data[(y * 64 + x) * 4] as number) > 0;
    expect(at(23, 23)).toBe(true); // photo 46..48: inside the block
    expect(at(21, 21)).toBe(true);
    expect(at(19, 19)).toBe(false); // photo 38: left of it
    expect(at(27, 27)).toBe(false); // photo 54: right of it
    let n = 0;
    for (let i = 0; i < 64 * 64; i++) n += (out.data[i * 4] as number) > 0 ? 1 : 0;
    expect(n).toBeGreaterThanOrEqual(16); // about 5 x 5 pixels
    expect(n).toBeLessThanOrEqual(36);
  });
  it('returns undefined when the mask falls outside the new crop', () => {
    // new crop shows photo 200..264, far from the painted block
    expect(carryMask(square(64, 10, 20), [1, 0, -32, 0, 1, -32], [1, 0, 200, 0, 1, 200], 64, 64)).toBeUndefined();
  });
});
