/**
 * Pixel geometry of the masks brought into a face crop (pixel centres, workers/faces/alignment.ts): a mask imported
 * for the whole photo, the scratch detector's full-resolution mask, and a mask carried from one crop to the other
 * must mark the crop pixels where the crop itself shows what the mask marks in the photo. Measured in crop pixels,
 * on synthetic photos: a bright disc (and a mask file of the same disc), two bright scratch lines. A detected face
 * (crop drawn by warpAffine, a turned similarity) and the whole photo as the face (drawn by the canvas from the
 * original, its recorded inverse in pixel corners), at 64 and 256 px, for a photo whose working copy is the original
 * and one half its size. Offsets are averaged over a few sub-pixel positions of the shapes: binarising a mask moves
 * its centroid by a few hundredths of a pixel either way; a convention slip moves it by 0.1 to 0.6.
 */
import { describe, expect, it } from 'vitest';
import type { Affine, RgbaImage } from '../../../workers/api';
import { applyAffine, invertAffine } from '../../../workers/faces/alignment';
import { detectScratches } from '../../../workers/scratches/detect';
import { carryMaskBetween } from '../faces/faces-actions';
import type { FaceCrop } from '../../store/facesSlice';
import type { LoadedPhoto } from '../../store/photoSlice';
import { centerSquareTransform } from '../upload/image-math';
import { maskFromImport, maskImportPhoto } from './mask-actions';
import { detectionGeometry, maskFromDetection } from './scratch-source';
import {
  blank,
  boxDown,
  canvasDraw,
  centroid,
  detectedFace,
  faceInverse,
  fillDisc,
  maskCentroid,
  maskImage,
  offset,
  threshold,
} from '../../../tests/helpers/pixel-geometry';

/** A photo (original side W = 512 * f, working copy 1 / f of it) and its two crops at `size`. */
function scene(f: number, size: number, draw: (orig: RgbaImage, cropToOriginal: (c: 'detected' | 'whole') => Affine) => void) {
  const W = 512 * f;
  const k = (0.6 * 512) / size; // working pixels per crop pixel of the detected face
  const inverse = faceInverse(size, k, 12, 250, 262); // detected face: crop -> working, centres
  const o = centerSquareTransform(W, W, size);
  const kk = size / o.side;
  // ground truth, crop pixel centres -> original pixel centres, written out here (not the app's helpers)
  const truth = (c: 'detected' | 'whole'): Affine =>
    c === 'detected'
      ? [inverse[0] * f, inverse[1] * f, (inverse[2] + 0.5) * f - 0.5, inverse[3] * f, inverse[4] * f, (inverse[5] + 0.5) * f - 0.5]
      : [1 / kk, 0, 0.5 / kk - 0.5 + o.x, 0, 1 / kk, 0.5 / kk - 0.5 + o.y];
  const orig = blank(W, W);
  draw(orig, truth);
  const working = f === 1 ? orig : boxDown(orig, f);
  const photo = { width: W, height: W, working, scale: 1 / f } as LoadedPhoto;
  const aligned = detectedFace(working, size, inverse);
  const detected = { key: 'p:0', faceIndex: 0, aligned } as FaceCrop;
  // the whole photo as the face, as faces-actions makes it: drawn by the canvas from the original's centred square,
  // its transform the working copy's centred square (centerSquareTransform: pixel corners)
  const crop = canvasDraw(orig, [kk, 0, -o.x * kk, 0, kk, -o.y * kk], size, size);
  const w = centerSquareTransform(working.width, working.height, size);
  const whole = { key: 'p:whole', faceIndex: -1, aligned: { crop, transform: w.transform, inverse: w.inverse } } as FaceCrop;
  return { orig, working, photo, crops: { detected, whole }, truth };
}

const PHASES = [0, 0.25, 0.5, 0.75];
const mean = (xs: { dx: number; dy: number }[]) => {
  const dx = xs.reduce((s, x) => s + x.dx, 0) / xs.length;
  const dy = xs.reduce((s, x) => s + x.dy, 0) / xs.length;
  return { dx, dy, d: Math.hypot(dx, dy) };
};

describe('a mask imported for the whole photo lands on the crop pixels that show what it marks', () => {
  for (const f of [1, 2])
    for (const size of [64, 256])
      it(`photo ${512 * f} px (working ${512} px), crop ${size} px: disc in the photo vs the same disc as a mask file`, () => {
        const found: Record<string, { dx: number; dy: number }[]> = {};
        // a few sub-pixel positions of the disc: binarising the mask moves its centroid a little either way
        for (const ph of PHASES) {
          const s = scene(f, size, (orig) => fillDisc(orig, (250.1 + ph * 3.3) * f, (262.2 + ph * 2.1) * f, 64 * f));
          for (const name of ['detected', 'whole'] as const) {
            const c = s.crops[name];
            const shown = centroid(c.aligned.crop);
            for (const [which, file] of [
              ['original', s.orig],
              ['working', s.working],
            ] as const) {
              if (which === 'working' && f === 1) continue;
              const r = maskFromImport(file, c.aligned.crop, maskImportPhoto(s.photo, c));
              if ('error' in r) throw new Error(r.error);
              (found[`${name}, ${which}-size mask`] ??= []).push(offset(shown, maskCentroid(r.mask)));
            }
          }
        }
        for (const [key, offs] of Object.entries(found)) {
          const m = mean(offs);
          expect(m.d, `${key}: mask centroid off the crop's disc by (${m.dx.toFixed(3)}, ${m.dy.toFixed(3)}) crop px`).toBeLessThan(0.1);
        }
      });
});

/**
 * Two scratches, each a line through a crop point across a normal: not at 45 degrees, so that the crop pixels a line
 * crosses take every sub-pixel phase along it, and across each other, so that the two measure the offset both ways.
 */
const NA = [1 / Math.hypot(1, 0.37), 0.37 / Math.hypot(1, 0.37)] as const;
const LINES = [
  { at: [0.45, 0.5], normal: NA },
  { at: [0.5, 0.6], normal: [-NA[1], NA[0]] },
] as const;

/** Signed distance in crop pixels of crop point (u, v) from line `i`. */
const distance = (i: number, u: number, v: number, size: number) => {
  const l = LINES[i]!;
  return (u - l.at[0] * size) * l.normal[0] + (v - l.at[1] * size) * l.normal[1];
};

/** The two scratches in the original photo, bright 3 px lines (at 512 px) on a gentle gradient. */
function drawScratches(orig: RgbaImage, toOriginal: Affine, size: number, f: number): void {
  // each line's point and normal in the photo (the crop -> photo map is a similarity: it keeps angles)
  const lines = LINES.map((l) => {
    const [px, py] = applyAffine(toOriginal, l.at[0] * size, l.at[1] * size);
    const nx = toOriginal[0] * l.normal[0] + toOriginal[1] * l.normal[1];
    const ny = toOriginal[3] * l.normal[0] + toOriginal[4] * l.normal[1];
    const n = Math.hypot(nx, ny);
    return { px, py, nx: nx / n, ny: ny / n };
  });
  const half = 1.5 * f;
  for (let y = 0; y < orig.height; y++)
    for (let x = 0; x < orig.width; x++) {
      let a = 0;
      for (const l of lines) a = Math.max(a, Math.min(1, Math.max(0, half + 0.5 - Math.abs((x - l.px) * l.nx + (y - l.py) * l.ny))));
      const v = 70 + (x / f) * 0.1 + 150 * a;
      orig.data.set([v, v, v, 255], (y * orig.width + x) * 4);
    }
}

/**
 * Mean signed distance across line `i` of the mask's pixels near it (within 4 crop px), leaving out those near the
 * other line (within 6): where the mask sits across each scratch.
 */
function across(mask: { width: number; height: number; data: Uint8Array }, size: number, i: number): { mean: number; n: number } {
  let s = 0;
  let n = 0;
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++) {
      if (!mask.data[y * mask.width + x]) continue;
      const d = distance(i, x, y, size);
      if (Math.abs(d) >= 4 || Math.abs(distance(1 - i, x, y, size)) < 6) continue;
      s += d;
      n++;
    }
  return { mean: n ? s / n : NaN, n };
}

describe("the scratch detector's full-resolution mask lands on the crop pixels that show the scratch", () => {
  for (const f of [1, 2])
    for (const size of [64, 256])
      it(`photo ${512 * f} px (working 512 px), crop ${size} px`, () => {
        for (const name of ['detected', 'whole'] as const) {
          const s = scene(f, size, (orig, truth) => drawScratches(orig, truth(name), size, f));
          const c = s.crops[name];
          // as detectScratches does it, the canvas emulated
          const at = detectionGeometry(c, s.photo.scale, size);
          if (!at) throw new Error('detected at the crop size, not larger');
          const image = canvasDraw(s.orig, at.toDetection, at.side, at.side);
          const found = maskFromDetection(detectScratches(image), size, size);
          const a = across(found, size, 0);
          const b = across(found, size, 1);
          expect(Math.min(a.n, b.n), `${name}: both scratches are found`).toBeGreaterThan(size / 4);
          // the two normals are orthogonal: the offsets across them are the offset's two components
          const d = Math.hypot(a.mean, b.mean);
          expect(
            d,
            `${name}: mask off the crop's scratches by ${a.mean.toFixed(3)}, ${b.mean.toFixed(3)} crop px across them`,
          ).toBeLessThan(0.1);
        }
      });
});

describe('a mask painted on one crop and carried onto the other ("already a cropped face" flipped) stays on what it marks', () => {
  for (const f of [1, 2])
    for (const size of [64, 256])
      it(`photo ${512 * f} px (working 512 px), crops ${size} px: detected face <-> whole photo`, () => {
        const found: Record<string, { dx: number; dy: number }[]> = {};
        for (const ph of PHASES) {
          const s = scene(f, size, (orig) => fillDisc(orig, (250.1 + ph * 3.3) * f, (262.2 + ph * 2.1) * f, 64 * f));
          for (const [from, to] of [
            ['detected', 'whole'],
            ['whole', 'detected'],
          ] as const) {
            // the person paints over the disc the old crop shows
            const painted = threshold(s.crops[from].aligned.crop);
            const carried = carryMaskBetween(maskImage(painted), s.crops[from], s.crops[to]);
            if (!carried) throw new Error('the mask was lost');
            // where the painted mask's centroid is on the new crop, by the ground-truth maps (old crop -> photo -> new)
            const [x, y] = applyAffine(s.truth(from), ...maskCentroid(painted));
            const expected = applyAffine(invertAffine(s.truth(to)), x, y);
            (found[`${from} -> ${to}`] ??= []).push(offset(expected, centroid(carried)));
          }
        }
        for (const [key, offs] of Object.entries(found)) {
          const m = mean(offs);
          expect(m.d, `${key}: carried mask off by (${m.dx.toFixed(3)}, ${m.dy.toFixed(3)}) crop px`).toBeLessThan(0.1);
        }
      });
});
