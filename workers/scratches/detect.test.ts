import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { RgbaImage } from '../api';
import { detectScratchMask, detectScratches } from './detect';
import { lineMean, lineOffsets, lineOpen, squareFilter } from './morphology';
import { paintScratches } from './synthetic';

const T = new URL('../../../shared/testdata/', import.meta.url).pathname;

async function load(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

function fraction(mask: Uint8Array): number {
  let c = 0;
  for (const v of mask) c += v;
  return c / mask.length;
}

/** a smooth grey gradient with optional bright line and bright dot */
function synthetic(line: boolean, dot: boolean): RgbaImage {
  const w = 128;
  const data = new Uint8ClampedArray(w * w * 4);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      let v = 80 + x * 0.5;
      if (line && Math.abs(y - (20 + 0.6 * x)) < 1.2) v = 220; // a thin diagonal scratch
      if (dot && (x - 100) ** 2 + (y - 20) ** 2 < 9) v = 230; // a small bright speck
      const i = (y * w + x) * 4;
      data[i] = data[i + 1] = data[i + 2] = v;
      data[i + 3] = 255;
    }
  return { width: w, height: w, data };
}

describe('morphology', () => {
  it('line offsets are centred and de-duplicated', () => {
    const o = lineOffsets(5, 0);
    expect(o).toHaveLength(11);
    expect(o).toContainEqual([0, 0]);
    expect(o).toContainEqual([-5, 0]);
  });
  it('a line opening keeps a long line and removes a short one across it', () => {
    const w = 32;
    const data = new Float32Array(w * w);
    for (let x = 2; x < 30; x++) data[10 * w + x] = 1; // long horizontal line
    for (let x = 5; x < 8; x++) data[20 * w + x] = 1; // short segment
    const o = lineOpen({ width: w, height: w, data }, 6, 0).data;
    expect(o[10 * w + 15]).toBe(1);
    expect(o[20 * w + 6]).toBe(0);
    const v = lineOpen({ width: w, height: w, data }, 6, Math.PI / 2).data;
    expect(v[10 * w + 15]).toBe(0); // a vertical element does not fit a horizontal line
  });
  it('the running min / max filter equals the direct one, borders replicated', () => {
    const w = 23;
    const h = 17;
    const rand = (i: number) => ((i * 2654435761) % 1000) / 10;
    const src = { width: w, height: h, data: Float32Array.from({ length: w * h }, (_, i) => rand(i)) };
    for (const r of [1, 4, 12]) {
      for (const op of ['min', 'max'] as const) {
        const fast = squareFilter(src, r, op).data;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            let acc = op === 'min' ? Infinity : -Infinity;
            for (let dy = -r; dy <= r; dy++)
              for (let dx = -r; dx <= r; dx++) {
                const v = src.data[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))] as number;
                acc = op === 'min' ? Math.min(acc, v) : Math.max(acc, v);
              }
            expect(fast[y * w + x]).toBe(acc);
          }
      }
    }
  });
  it('the line mean averages along the segment: 1 on a line of ones, small across it, every angle', () => {
    const w = 96;
    for (const theta of [0, 0.4, Math.PI / 4, 1.2, Math.PI / 2, 2.0, 2.9]) {
      const data = new Float32Array(w * w);
      // a 2 px wide line through the centre at angle theta
      for (let y = 0; y < w; y++)
        for (let x = 0; x < w; x++) {
          const d = Math.abs(-(x - 48) * Math.sin(theta) + (y - 48) * Math.cos(theta));
          if (d <= 1) data[y * w + x] = 1;
        }
      const along = lineMean({ width: w, height: w, data }, 10, theta);
      const across = lineMean({ width: w, height: w, data }, 10, theta + Math.PI / 2);
      expect(along[48 * w + 48]).toBeGreaterThan(0.95);
      expect(across[48 * w + 48]).toBeLessThan(0.25);
      // a constant plane stays constant, borders included (only the pixels inside are averaged)
      const flat = lineMean({ width: w, height: w, data: new Float32Array(w * w).fill(3) }, 10, theta);
      expect(Math.min(...flat)).toBeCloseTo(3, 5);
      expect(Math.max(...flat)).toBeCloseTo(3, 5);
    }
  });
});

describe('scratch detector (synthetic)', () => {
  it('finds a thin bright line and ignores a bright speck and a smooth gradient', () => {
    const m = detectScratchMask(synthetic(true, true));
    const w = 128;
    let onLine = 0;
    let total = 0;
    for (let x = 10; x < 118; x++) {
      const y = Math.round(20 + 0.6 * x);
      if (y >= w) continue;
      total++;
      if (m[y * w + x]) onLine++;
    }
    expect(onLine / total).toBeGreaterThan(0.8);
    expect(m[20 * w + 100]).toBe(0);
    expect(fraction(detectScratchMask(synthetic(false, true)))).toBe(0);
  });
  it('returns a white-on-black RGBA mask of the input size', () => {
    const img = synthetic(true, false);
    const out = detectScratches(img);
    expect(out.width).toBe(img.width);
    expect(out.data.length).toBe(img.data.length);
    const values = new Set<number>();
    for (let i = 0; i < out.data.length; i += 4) values.add(out.data[i] as number);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    expect(() => detectScratches({ width: 4, height: 4, data: new Uint8ClampedArray(10) })).toThrow();
  });
});

describe.runIf(existsSync(T))('scratch detector on real old photos', () => {
  it('old_photos/med_scratch/0_7.jpg against its scratch mask, at full resolution', async () => {
    const img = await load(`${T}old_photos/med_scratch/0_7.jpg`);
    const gt = await load(`${T}old_photos/scratch_masks/0_7.jpg`);
    expect(img.width).toBe(512);
    const t0 = performance.now();
    const m = detectScratchMask(img);
    const ms = performance.now() - t0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < m.length; i++) {
      const g = (gt.data[i * 4] as number) > 127;
      if (m[i] && g) tp++;
      else if (m[i]) fp++;
      else if (g) fn++;
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    console.log(`scratch 0_7: precision ${precision.toFixed(3)} recall ${recall.toFixed(3)} ${ms.toFixed(0)} ms at 512 px`);
    // measured 0.861 / 0.329 (the target, recall 0.6 at precision 0.8, is NOT reached: see README)
    expect(precision).toBeGreaterThan(0.8);
    expect(recall).toBeGreaterThan(0.3);
  });
  it('finds a sharp-edged white blotch pasted on a real old photo, and nothing new elsewhere', async () => {
    const img = await load(`${T}old_photos/med/063_Judy_Garland_00.png`);
    const before = detectScratchMask(img);
    const w = img.width;
    const blot = new Uint8Array(w * img.height);
    // an irregular blotch of three overlapping discs (about 50 x 30 px) on the cheek, paper white with grain
    const discs: [number, number, number][] = [
      [330, 330, 14],
      [350, 325, 12],
      [342, 342, 10],
    ];
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < w; x++) {
        if (!discs.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r)) continue;
        const i = y * w + x;
        blot[i] = 1;
        const v = 244 + ((x * 7 + y * 13) % 5) - 2;
        img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
      }
    const after = detectScratchMask(img);
    let hit = 0;
    let total = 0;
    let newOutside = 0;
    for (let i = 0; i < blot.length; i++) {
      if (blot[i]) {
        total++;
        hit += after[i] as number;
      } else if (after[i] && !before[i]) newOutside++;
    }
    console.log(`blotch: ${((100 * hit) / total).toFixed(1)}% of ${total} px found, ${newOutside} px newly flagged outside`);
    expect(hit / total).toBeGreaterThan(0.9);
    // the 1 px growth around the blotch is allowed; nothing else appears
    expect(newOutside).toBeLessThan(0.25 * total);
  });
  it('finds most of the synthetic scratches painted on clean old photos (other photos than 0_7)', async () => {
    const files = ['026_Bjork_00.png', '051_Eminem_00.png', '099_Victoria_Beckham_00.png'];
    let tp = 0;
    let total = 0;
    for (const [k, f] of files.entries()) {
      const { image, truth } = paintScratches(await load(`${T}old_photos/med/${f}`), 4, 100 + k);
      const m = detectScratchMask(image);
      let hit = 0;
      let n = 0;
      for (let i = 0; i < m.length; i++)
        if (truth[i]) {
          n++;
          hit += m[i] as number;
        }
      console.log(`synthetic scratches on ${f}: ${((100 * hit) / n).toFixed(1)}% of ${n} px found`);
      tp += hit;
      total += n;
    }
    // measured 0.85 (the measure tool's ten photos, other seeds: 0.78); faint strokes on light skin are the misses
    expect(tp / total).toBeGreaterThan(0.65);
  });
  it('flags few pixels on clean faces', async () => {
    const files = [
      'cropped_faces/0040.png',
      'cropped_faces/0128.png',
      'old_photos/med/051_Eminem_00.png',
      'old_photos/med/063_Judy_Garland_00.png',
    ];
    for (const f of files) {
      const frac = fraction(detectScratchMask(await load(T + f)));
      console.log(`clean ${f}: ${(frac * 100).toFixed(2)}% flagged`);
      expect(frac).toBeLessThan(0.03);
    }
  });
});

describe('scratch detector on small crops', () => {
  it('detects a thin scratch on a 64 px crop (via the enlarged working copy)', () => {
    const w = 64;
    const data = new Uint8ClampedArray(w * w * 4);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const v = Math.abs(y - (8 + 0.7 * x)) < 0.8 ? 235 : 90 + x;
        const i = (y * w + x) * 4;
        data[i] = data[i + 1] = data[i + 2] = v;
        data[i + 3] = 255;
      }
    const m = detectScratchMask({ width: w, height: w, data });
    expect(m).toHaveLength(w * w);
    expect(m[Math.round(8 + 0.7 * 30) * w + 30]).toBe(1);
    expect(m[50 * w + 10]).toBe(0);
    expect(fraction(m)).toBeLessThan(0.15);
  });
});
