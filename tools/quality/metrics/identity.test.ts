import { describe, expect, it } from 'vitest';
import { identityCosine, toIdentityInput } from './identity';

describe('identity metric helpers', () => {
  it('resizes a constant image to a constant tensor in [-1,1], planar', () => {
    const w = 300;
    const h = 200;
    const rgb = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgb.set([255, 0, 51, 255], i * 4);
    const t = toIdentityInput(rgb, w, h, 4, 112);
    expect(t.length).toBe(3 * 112 * 112);
    const plane = 112 * 112;
    for (const i of [0, 5000, plane - 1]) {
      expect(t[i]).toBeCloseTo(1, 6);
      expect(t[plane + i]).toBeCloseTo(-1, 6);
      expect(t[2 * plane + i]).toBeCloseTo(-0.6, 6);
    }
  });
  it('keeps a left-right ramp increasing after the resize', () => {
    const w = 224;
    const rgb = new Uint8Array(w * w * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgb.fill(x, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const t = toIdentityInput(rgb, w, w, 3, 112);
    expect(t[10]!).toBeLessThan(t[11]!);
    expect(t[111]!).toBeGreaterThan(t[0]!);
  });
  it('compares embeddings with a cosine', async () => {
    // a toy "embedder": mean of each channel plane
    const embed = async (x: Float32Array, s: number) => {
      const e = new Float32Array(3);
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = 0; i < s * s; i++) acc += x[c * s * s + i]! / (s * s);
        e[c] = acc;
      }
      return e;
    };
    const red = { data: new Uint8Array(64 * 64 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)), width: 64, height: 64, channels: 3 };
    const green = { data: new Uint8Array(64 * 64 * 3).map((_, i) => (i % 3 === 1 ? 255 : 0)), width: 64, height: 64, channels: 3 };
    expect(await identityCosine(embed, red, red)).toBeCloseTo(1, 6);
    expect(await identityCosine(embed, red, green)).toBeLessThan(0.5);
  });
});
