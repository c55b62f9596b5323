import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Affine } from '../api';
import { loadRgba } from '../../tools/faces/node-io';
import { gradient, psnr, rng, sharedDir } from '../../tools/faces/test-support';
import {
  affineScale,
  alignFace,
  applyAffine,
  centresToCorners,
  composeAffine,
  cornersToCentres,
  featherWeight,
  invertAffine,
  pasteBack,
  resizeCentres,
  similarityTransform,
  warpAffine,
} from './alignment';
import { createImage } from './image';
import { FFHQ_TEMPLATE_512, ffhqTemplate, type Point } from './templates';

function similarity(scale: number, angleDeg: number, tx: number, ty: number): Affine {
  const t = (angleDeg * Math.PI) / 180;
  return [scale * Math.cos(t), -scale * Math.sin(t), tx, scale * Math.sin(t), scale * Math.cos(t), ty];
}

describe('similarityTransform (Umeyama)', () => {
  it('recovers an exact similarity from the five template points', () => {
    const m = similarity(0.37, 23, 410.5, -77.25);
    const dst = FFHQ_TEMPLATE_512.map(([x, y]) => applyAffine(m, x, y));
    const est = similarityTransform(FFHQ_TEMPLATE_512, dst);
    for (let i = 0; i < 6; i++) expect(est[i]).toBeCloseTo(m[i]!, 9);
  });

  it('is the least-squares fit under noise (residual no worse than the true transform)', () => {
    const r = rng(7);
    const m = similarity(2.1, -14, 30, 55);
    const dst: Point[] = FFHQ_TEMPLATE_512.map(([x, y]) => {
      const [u, v] = applyAffine(m, x, y);
      return [u + (r() - 0.5) * 20, v + (r() - 0.5) * 20];
    });
    const est = similarityTransform(FFHQ_TEMPLATE_512, dst);
    const residual = (a: Affine) =>
      FFHQ_TEMPLATE_512.reduce((s, [x, y], i) => {
        const [u, v] = applyAffine(a, x, y);
        return s + (u - dst[i]![0]) ** 2 + (v - dst[i]![1]) ** 2;
      }, 0);
    expect(residual(est)).toBeLessThan(residual(m));
    // perturbing the estimate in any parameter direction increases the residual
    for (let k = 0; k < 6; k++) {
      const p = [...est] as Affine;
      p[k] = p[k]! + (k === 2 || k === 5 ? 0.5 : 0.001);
      // keep it a similarity: a = e, b = -d
      if (k === 0) p[4] = p[0];
      if (k === 4) p[0] = p[4];
      if (k === 1) p[3] = -p[1];
      if (k === 3) p[1] = -p[3];
      expect(residual(p)).toBeGreaterThan(residual(est));
    }
    expect(affineScale(est)).toBeCloseTo(2.1, 1);
  });

  it('never returns a reflection and inverts exactly', () => {
    const mirrored: Point[] = FFHQ_TEMPLATE_512.map(([x, y]) => [512 - x, y]);
    const est = similarityTransform(FFHQ_TEMPLATE_512, mirrored);
    expect(est[0] * est[4] - est[1] * est[3]).toBeGreaterThanOrEqual(0);
    const m = similarity(0.5, 33, 12, 34);
    const inv = invertAffine(m);
    const [x, y] = applyAffine(inv, ...applyAffine(m, 123.4, -56.7));
    expect(x).toBeCloseTo(123.4, 9);
    expect(y).toBeCloseTo(-56.7, 9);
  });
});

describe('pixel-centre conventions', () => {
  it('resizeCentres: halving an image of 2x2 blocks gives back each block, not a mix of neighbours', () => {
    // warpAffine (pixel centres) with resizeCentres(0.5): output pixel u is the middle of input pixels 2u and 2u + 1,
    // at 2u + 0.5; plain scaling by 0.5 would put it at 2u and blend in the block to the left
    const img = createImage(64, 48);
    const block = (bx: number, by: number) => ((bx * 37 + by * 91) % 200) + 20;
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) img.data.set([block(x >> 1, y >> 1), 0, 0, 255], (y * 64 + x) * 4);
    const half = warpAffine(img, resizeCentres(0.5), 32, 24);
    for (let y = 0; y < 24; y++) for (let x = 0; x < 32; x++) expect(half.data[(y * 32 + x) * 4]).toBe(block(x, y));
    expect(applyAffine(resizeCentres(0.5), 0.5, 0.5)).toEqual([0, 0]);
    expect(applyAffine(resizeCentres(8), -0.5, 63.5)).toEqual([-0.5, 511.5]); // the edges meet
  });

  it('corners <-> centres: the same map, read the other way; composeAffine is outer after inner', () => {
    const corners = similarity(3.2, 17, 40.25, -8.5);
    const c = cornersToCentres(corners);
    // a corner-convention point p is pixel-centre point p - 0.5
    const [x, y] = applyAffine(corners, 10.5, 20.5);
    const [cx, cy] = applyAffine(c, 10, 20);
    expect(cx).toBeCloseTo(x - 0.5, 12);
    expect(cy).toBeCloseTo(y - 0.5, 12);
    const back = centresToCorners(c);
    for (let i = 0; i < 6; i++) expect(back[i]).toBeCloseTo(corners[i]!, 12);
    const m = composeAffine(similarity(2, 30, 1, 2), similarity(0.5, -10, 3, 4));
    const [px, py] = applyAffine(similarity(2, 30, 1, 2), ...applyAffine(similarity(0.5, -10, 3, 4), 5, 6));
    const [qx, qy] = applyAffine(m, 5, 6);
    expect(qx).toBeCloseTo(px, 12);
    expect(qy).toBeCloseTo(py, 12);
  });
});

describe('templates', () => {
  it('scales the FFHQ template with pixel centres', () => {
    const t256 = ffhqTemplate(256);
    expect(t256[0]![0]).toBeCloseTo((192.98138 + 0.5) / 2 - 0.5, 9);
    expect(ffhqTemplate(512)).toEqual(FFHQ_TEMPLATE_512);
  });
});

describe('warpAffine', () => {
  it('is exact for an integer translation and fills outside by reflection', () => {
    const g = gradient(64, 48);
    const w = warpAffine(g, [1, 0, -10, 0, 1, -5], 64, 48);
    for (const [x, y] of [
      [0, 0],
      [30, 20],
      [53, 42],
    ] as const) {
      for (let c = 0; c < 4; c++) expect(w.data[(y * 64 + x) * 4 + c]).toBe(g.data[((y + 5) * 64 + x + 10) * 4 + c]);
    }
    // output x = 60 maps to source x = 70 -> reflected to 2 * 63 - 70 = 56
    expect(w.data[(10 * 64 + 60) * 4]).toBe(g.data[(15 * 64 + 56) * 4]);
  });

  it('antialiases when shrinking: a 1-pixel checkerboard becomes flat grey', () => {
    const img = gradient(200, 200);
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 200; x++) img.data.fill((x + y) % 2 ? 255 : 0, (y * 200 + x) * 4, (y * 200 + x) * 4 + 3);
    }
    const w = warpAffine(img, [0.25, 0, 0, 0, 0.25, 0], 50, 50);
    let maxDev = 0;
    for (let i = 0; i < 50 * 50; i++) maxDev = Math.max(maxDev, Math.abs(w.data[i * 4]! - 127.5));
    expect(maxDev).toBeLessThan(2);
  });
});

describe('alignFace + pasteBack', () => {
  it('align -> paste back is close to identity on the face and leaves far pixels untouched', async () => {
    const face = await loadRgba(path.join(sharedDir, 'testdata/ref_faces/00016.png'));
    // a larger photo: the face scaled 0.8, rotated 12 degrees, on a gradient
    const photo = gradient(900, 700);
    const toPhoto = similarity(0.8, 12, 330, 120);
    const warped = warpAffine(face, toPhoto, 900, 700, { edge: 'constant', fill: [0, 0, 0, 0] });
    for (let i = 0; i < 900 * 700; i++) {
      const a = warped.data[i * 4 + 3]! / 255;
      for (let c = 0; c < 3; c++) photo.data[i * 4 + c] = a * warped.data[i * 4 + c]! + (1 - a) * photo.data[i * 4 + c]!;
    }
    const landmarks = FFHQ_TEMPLATE_512.map(([x, y]) => applyAffine(toPhoto, x, y));
    const aligned = alignFace(photo, { landmarks }, FFHQ_TEMPLATE_512, 512);
    // the alignment recovers the original crop (up to resampling at 0.8x)
    const inner = (x: number, y: number) => x > 40 && x < 472 && y > 40 && y < 472;
    const cropPsnr = psnr(aligned.crop, face, inner);
    console.log(`align recovers the crop: PSNR ${cropPsnr.toFixed(2)} dB (inner 432x432)`);
    expect(cropPsnr).toBeGreaterThan(30);

    const back = pasteBack(photo, [{ crop: aligned.crop, inverse: aligned.inverse }]);
    // inside the face region (where the feather weight is 1): close to the photo
    const toCrop = invertAffine(aligned.inverse);
    const faceRegion = (x: number, y: number) => {
      const [u, v] = applyAffine(toCrop, x, y);
      return featherWeight(u, v, 512, 0.02 * 512, 0.1 * 512) >= 1;
    };
    const facePsnr = psnr(back, photo, faceRegion);
    console.log(`align -> paste back on the face: PSNR ${facePsnr.toFixed(2)} dB`);
    expect(facePsnr).toBeGreaterThan(38);
    // far outside the crop footprint: byte-identical
    const fp = [
      [-0.5, -0.5],
      [511.5, -0.5],
      [-0.5, 511.5],
      [511.5, 511.5],
    ].map(([u, v]) => applyAffine(aligned.inverse, u!, v!));
    const minX = Math.min(...fp.map((p) => p[0]));
    const maxX = Math.max(...fp.map((p) => p[0]));
    const minY = Math.min(...fp.map((p) => p[1]));
    const maxY = Math.max(...fp.map((p) => p[1]));
    let checked = 0;
    for (let y = 0; y < 700; y++) {
      for (let x = 0; x < 900; x++) {
        if (x >= minX - 2 && x <= maxX + 2 && y >= minY - 2 && y <= maxY + 2) continue;
        const o = (y * 900 + x) * 4;
        for (let c = 0; c < 4; c++) if (back.data[o + c] !== photo.data[o + c]) throw new Error(`pixel ${x},${y} changed`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });

  it('pasting a different crop blends without a seam (the feathered edge is smooth)', () => {
    const photo = gradient(400, 400);
    const m = similarity(0.5, 0, 72, 72); // crop 512 -> photo footprint 256 at (72, 72)
    const aligned = alignFace(photo, { landmarks: FFHQ_TEMPLATE_512.map(([x, y]) => applyAffine(m, x, y)) }, FFHQ_TEMPLATE_512, 512);
    const white = { width: 512, height: 512, data: new Uint8ClampedArray(512 * 512 * 4).fill(255) };
    const back = pasteBack(photo, [{ crop: white, inverse: aligned.inverse }]);
    // along a row through the middle the change rises from 0 to full with no jump > 12 levels
    const y = 200;
    let prev = 0;
    let maxJump = 0;
    let full = 0;
    for (let x = 0; x < 400; x++) {
      const o = (y * 400 + x) * 4;
      const mix = (back.data[o]! - photo.data[o]!) / (255 - photo.data[o]! || 1);
      maxJump = Math.max(maxJump, Math.abs(back.data[o]! - photo.data[o]! - prev));
      prev = back.data[o]! - photo.data[o]!;
      if (mix > 0.99) full++;
    }
    console.log(`feathered edge: largest step between neighbours ${maxJump} levels, ${full} px fully replaced`);
    expect(maxJump).toBeLessThan(15); // a hard edge would step ~150 levels
    expect(full).toBeGreaterThan(150);
    expect(back.data[(200 * 400 + 10) * 4]).toBe(photo.data[(200 * 400 + 10) * 4]);
  });
});
