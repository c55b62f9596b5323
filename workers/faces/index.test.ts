import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtRunner, loadRgba } from '../../tools/faces/node-io';
import { detectorPath, meshPath, psnr, sharedDir } from '../../tools/faces/test-support';
import type { DetectorRunner } from './detector';
import { rotateQuarter } from './image';
import { alignFace, findFaces, FFHQ_TEMPLATE_512 } from './index';

let detector: DetectorRunner;
let mesh: DetectorRunner;
const releases: (() => Promise<void>)[] = [];
beforeAll(async () => {
  const d = await createOrtRunner(detectorPath);
  const m = await createOrtRunner(meshPath);
  detector = d.run;
  mesh = m.run;
  releases.push(d.release, m.release);
});
afterAll(async () => {
  for (const r of releases) await r();
});

describe('rotateQuarter', () => {
  it('turns clockwise and maps points back exactly', () => {
    const img = { width: 3, height: 2, data: new Uint8ClampedArray(3 * 2 * 4) };
    for (let i = 0; i < 6; i++) img.data[i * 4] = i; // red = index
    const r = rotateQuarter(img, 1);
    expect([r.image.width, r.image.height]).toEqual([2, 3]);
    // clockwise: the bottom-left pixel (0,1) = 3 goes to the top-left
    expect(Array.from({ length: 6 }, (_, i) => r.image.data[i * 4])).toEqual([3, 0, 4, 1, 5, 2]);
    for (const k of [0, 1, 2, 3]) {
      const q = rotateQuarter(img, k);
      for (let v = 0; v < q.image.height; v++) {
        for (let u = 0; u < q.image.width; u++) {
          const [x, y] = q.toOriginal(u, v);
          expect(q.image.data[(v * q.image.width + u) * 4]).toBe(img.data[(y * 3 + x) * 4]);
        }
      }
    }
  });
});

describe('findFaces on turned photos (sideways and upside-down scans)', () => {
  it('with quarterTurns the face is found and the alignment crop comes out upright', async () => {
    const face = await loadRgba(path.join(sharedDir, 'testdata/old_photos/med/026_Bjork_00.png'));
    const centre = (x: number, y: number) => x >= 96 && x < 416 && y >= 96 && y < 416;
    const upright = (await findFaces(face, { detector, mesh }))[0]!;
    const base = psnr(alignFace(face, upright, FFHQ_TEMPLATE_512, 512).crop, face, centre);
    const lines = [`upright: aligned crop vs original PSNR ${base.toFixed(2)} dB`];
    for (const k of [1, 2, 3]) {
      // the stored photo is the upright one turned k times clockwise: 4 - k more turns make it upright
      const stored = rotateQuarter(face, k).image;
      const faces = await findFaces(stored, { detector, mesh }, { quarterTurns: 4 - k });
      expect(faces.length, `turn ${k}`).toBe(1);
      const crop = alignFace(stored, faces[0]!, FFHQ_TEMPLATE_512, 512).crop;
      const p = psnr(crop, face, centre);
      // without the turn, BlazeFace still fires but the crop is not upright
      const naive = (await findFaces(stored, { detector, mesh }))[0];
      const pNaive = naive ? psnr(alignFace(stored, naive, FFHQ_TEMPLATE_512, 512).crop, face, centre) : 0;
      lines.push(`stored turned ${k * 90} degrees: with quarterTurns ${p.toFixed(2)} dB, without ${pNaive.toFixed(2)} dB`);
      expect(p, `turn ${k}`).toBeGreaterThan(base - 1);
      expect(p, `turn ${k}`).toBeGreaterThan(pNaive);
      // the box lies on the face in the stored photo: it contains the aligned eyes' midpoint
      const [le, re] = faces[0]!.landmarks as [number, number][];
      const mx = (le![0] + re![0]) / 2;
      const my = (le![1] + re![1]) / 2;
      const b = faces[0]!.box;
      expect(mx > b.x && mx < b.x + b.width && my > b.y && my < b.y + b.height, `turn ${k} box`).toBe(true);
    }
    console.log(lines.join('; '));
  });
});
