import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../api';
import { blendOutsideMask, chwToRgba, featherFor, fillMissing, rgbaToChw, withLightnessOf } from './image';

function solid(w: number, h: number, rgb: [number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return { width: w, height: h, data };
}

describe('image conversions', () => {
  it('chwToRgba keeps the channel order and rounds down as the reference saves', () => {
    const n = 2;
    const chw = Float32Array.from([1, -1, 0, 0.5, -1, 1]); // R, G, B planes of 2 pixels
    const img = chwToRgba(chw, 2, 1);
    expect(Array.from(img.data)).toEqual([255, 127, 0, 255, 0, 191, 255, 255]);
    expect(rgbaToChw(img).length).toBe(3 * n);
    expect(rgbaToChw(img)[0]).toBeCloseTo(1, 6);
    expect(rgbaToChw(img)[2]).toBeCloseTo(127 / 127.5 - 1, 6);
  });
});

describe('blendOutsideMask', () => {
  it('keeps every unmasked pixel byte-equal and ramps inside the mask', () => {
    const w = 32;
    const photo = solid(w, w, [10, 20, 30]);
    const result = solid(w, w, [200, 100, 50]);
    const mask = solid(w, w, [0, 0, 0]);
    for (let y = 8; y < 24; y++) for (let x = 8; x < 24; x++) mask.data.set([255, 255, 255], (y * w + x) * 4);
    const out = blendOutsideMask(result, photo, mask, 4);
    for (let i = 0; i < w * w; i++) {
      const missing = (mask.data[i * 4] as number) > 0;
      if (!missing) expect(Array.from(out.data.subarray(i * 4, i * 4 + 3))).toEqual([10, 20, 30]);
    }
    // the centre of the hole (8 px from the edge) is the result; the hole's first ring is a quarter of it
    expect(Array.from(out.data.subarray((16 * w + 16) * 4, (16 * w + 16) * 4 + 3))).toEqual([200, 100, 50]);
    const edge = (16 * w + 8) * 4;
    expect(out.data[edge]).toBe(Math.round(0.25 * 200 + 0.75 * 10));
  });

  it('feathers toward the nearest kept pixel, never toward the damaged pixels under the mask', () => {
    const w = 32;
    // the photo: grey outside, a white box (the damage) inside the mask
    const photo = solid(w, w, [90, 90, 90]);
    const mask = solid(w, w, [0, 0, 0]);
    for (let y = 8; y < 24; y++)
      for (let x = 8; x < 24; x++) {
        mask.data.set([255, 255, 255], (y * w + x) * 4);
        photo.data.set([255, 255, 255], (y * w + x) * 4);
      }
    const result = solid(w, w, [100, 100, 100]);
    const out = blendOutsideMask(result, photo, mask, 4);
    let brightest = 0;
    for (let i = 0; i < w * w; i++) brightest = Math.max(brightest, out.data[i * 4] as number);
    // between the kept grey (90) and the result (100): no white halo along the edge
    expect(brightest).toBe(100);
    const edge = (16 * w + 8) * 4;
    expect(out.data[edge]).toBe(Math.round(0.25 * 100 + 0.75 * 90));
  });

  it('a mask over the whole image gives the result', () => {
    const out = blendOutsideMask(solid(4, 4, [7, 8, 9]), solid(4, 4, [255, 255, 255]), solid(4, 4, [255, 255, 255]), 2);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([7, 8, 9]);
  });

  it('refuses images of different sizes and picks a feather from the size', () => {
    expect(() => blendOutsideMask(solid(4, 4, [0, 0, 0]), solid(8, 8, [0, 0, 0]), solid(4, 4, [0, 0, 0]), 2)).toThrow(/sizes differ/);
    expect(featherFor(256, 256)).toBe(4);
    expect(featherFor(64, 64)).toBe(2);
  });
});

describe('fillMissing', () => {
  it('fills the hole with the nearest kept colours and keeps the rest', () => {
    const w = 16;
    const photo = solid(w, w, [0, 0, 0]);
    const mask = solid(w, w, [0, 0, 0]);
    // left half red, right half blue, a white hole in the middle rows
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        photo.data.set(x < 8 ? [200, 0, 0] : [0, 0, 200], (y * w + x) * 4);
        if (y >= 6 && y < 10 && x >= 2 && x < 14) {
          photo.data.set([255, 255, 255], (y * w + x) * 4);
          mask.data.set([255, 255, 255], (y * w + x) * 4);
        }
      }
    const out = fillMissing(photo, mask);
    const px = (x: number, y: number) => Array.from(out.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 3));
    expect(px(3, 7)).toEqual([200, 0, 0]);
    expect(px(12, 8)).toEqual([0, 0, 200]);
    expect(px(0, 0)).toEqual([200, 0, 0]);
    for (let i = 0; i < w * w; i++) expect(out.data[i * 4 + 1]).toBe(0); // no white left anywhere
  });
});

describe('withLightnessOf', () => {
  it("takes the photo's lightness and keeps the result's colour, outside the mask only", () => {
    const photo = solid(4, 4, [100, 100, 100]);
    const result = solid(4, 4, [180, 120, 60]); // lightness 120, warm
    const mask = solid(4, 4, [0, 0, 0]);
    mask.data.set([255, 255, 255], 0); // pixel 0 is missing
    const out = withLightnessOf(result, photo, mask);
    expect(Array.from(out.data.subarray(4, 7))).toEqual([160, 100, 40]); // lightness 100, same colour differences
    expect(Array.from(out.data.subarray(0, 3))).toEqual([180, 120, 60]); // under the mask: the result
    expect(() => withLightnessOf(result, solid(2, 2, [0, 0, 0]))).toThrow(/sizes differ/);
  });
});
