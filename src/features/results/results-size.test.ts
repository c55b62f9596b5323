import { describe, expect, it } from 'vitest';
import { defaultFormat, deliveredCropSide } from './results-actions';

describe('what a download delivers', () => {
  it('a face crop at its size in the photo, never below the model resolution', () => {
    // crop -> original scale 4: a 64 px crop of a face 256 px wide in the photo
    expect(deliveredCropSide([4, 0, 10, 0, 4, 20], 64)).toBe(256);
    // rotated similarity: scale from the matrix's column norm
    const a = (30 * Math.PI) / 180;
    expect(deliveredCropSide([3 * Math.cos(a), -3 * Math.sin(a), 0, 3 * Math.sin(a), 3 * Math.cos(a), 0], 256)).toBe(768);
    // a face smaller in the photo than the model's crop: the model's resolution
    expect(deliveredCropSide([0.5, 0, 0, 0, 0.5, 0], 256)).toBe(256);
    expect(deliveredCropSide([100, 0, 0, 0, 100, 0], 256)).toBe(4096);
  });

  it("keeps the photo's format: JPEG stays JPEG", () => {
    expect(defaultFormat('image/jpeg')).toBe('jpeg');
    expect(defaultFormat('image/webp')).toBe('webp');
    expect(defaultFormat('image/png')).toBe('png');
    expect(defaultFormat(undefined)).toBe('png');
  });
});
