import { describe, expect, it } from 'vitest';
import { planMaskImport, warpMaskToCrop } from './maskOps';

const cropToWorking: [number, number, number, number, number, number] = [2, 0, 100, 0, 2, 50];
const photo = { width: 2000, height: 1000, workingWidth: 1000, workingHeight: 500, cropToWorking, scale: 0.5 };

describe('importing a mask image', () => {
  it('takes a crop-sized mask as is, scales one of the same shape, refuses other shapes naming the sizes', () => {
    expect(planMaskImport({ width: 64, height: 64 }, { width: 64, height: 64 }, photo)).toEqual({ kind: 'crop' });
    expect(planMaskImport({ width: 512, height: 512 }, { width: 64, height: 64 }, photo)).toEqual({
      kind: 'crop',
      note: 'resized from 512×512',
    });
    const r = planMaskImport({ width: 300, height: 200 }, { width: 64, height: 64 }, photo);
    expect(r.kind).toBe('refuse');
    expect(r.kind === 'refuse' && r.message).toMatch(/300×200.*64×64.*2000×1000/);
    expect(planMaskImport({ width: 0, height: 10 }, { width: 64, height: 64 }).kind).toBe('refuse');
  });

  it("places a whole-photo mask on the face with the face's alignment (original or working size)", () => {
    const orig = planMaskImport({ width: 2000, height: 1000 }, { width: 64, height: 64 }, photo);
    // pixel centres: working pixel x is original pixel (x + 0.5) * 2 - 0.5 (the two copies' edges meet)
    expect(orig).toMatchObject({ kind: 'photo', cropToMask: [4, 0, 200.5, 0, 4, 100.5] });
    const work = planMaskImport({ width: 1000, height: 500 }, { width: 64, height: 64 }, photo);
    expect(work).toMatchObject({ kind: 'photo', cropToMask: [2, 0, 100, 0, 2, 50] });
  });

  it('warps: a white square in the photo lands where the face crop sees it', () => {
    const W = 400;
    const H = 300;
    const data = new Uint8ClampedArray(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const on = x >= 120 && x < 160 && y >= 80 && y < 120;
        data.set([on ? 255 : 0, on ? 255 : 0, on ? 255 : 0, 255], (y * W + x) * 4);
      }
    // crop pixel (u, v) -> photo (2u + 100, 2v + 60): the square [120,160)x[80,120) is crop [10,30)x[10,30)
    const m = warpMaskToCrop({ width: W, height: H, data }, [2, 0, 100, 0, 2, 60], 64, 64);
    expect(m.data[20 * 64 + 20]).toBe(1);
    expect(m.data[5 * 64 + 5]).toBe(0);
    expect(m.data[40 * 64 + 40]).toBe(0);
    let n = 0;
    for (const v of m.data) n += v;
    expect(n).toBeGreaterThanOrEqual(19 * 19);
    expect(n).toBeLessThanOrEqual(21 * 21);
  });
});
