import { describe, expect, it } from 'vitest';
import { checkAlreadyAligned, landmarksInCrop, templateDistance } from './already-aligned';
import { ffhqTemplate, utkfaceTemplate, type Point } from './templates';

/**
 * Five points the app's detector (BlazeFace + face mesh, onnxruntime-node) found on real photos of
 * ../shared/testdata (tools/faces/measure-aligned.ts prints them with --rows).
 */
const REAL: Record<string, { size: [number, number]; landmarks: Point[] }> = {
  // FFHQ-aligned 512x512 crops
  'cropped_faces/0040.png': {
    size: [512, 512],
    landmarks: [
      [198.4, 238.9],
      [324.2, 243.3],
      [254.7, 297.1],
      [197.5, 353.4],
      [301.4, 357],
    ],
  },
  'cropped_faces/0130.png': {
    size: [512, 512],
    landmarks: [
      [186.3, 241.9],
      [324.7, 244.1],
      [259, 318.7],
      [201, 375.7],
      [313.2, 375],
    ],
  },
  'ref_faces/00010.png': {
    size: [512, 512],
    landmarks: [
      [192.2, 242],
      [317, 239.6],
      [248, 308.5],
      [202.3, 382.2],
      [310.2, 381.7],
    ],
  },
  // a whole photo: cropped_faces/0130.png at 360 px on an 800x800 background, at (380, 120)
  'whole 800x800': {
    size: [800, 800],
    landmarks: [
      [509.9, 289.1],
      [608.2, 291.2],
      [560.1, 345.6],
      [518.7, 385.3],
      [601.2, 385.2],
    ],
  },
};

const face = (landmarks: Point[]) => ({ landmarks });

/** Points moved about the crop's centre: scaled by k and turned by `deg` degrees. */
function about(points: Point[], size: number, k: number, deg = 0): Point[] {
  const c = (size - 1) / 2;
  const a = (deg * Math.PI) / 180;
  const [cos, sin] = [Math.cos(a), Math.sin(a)];
  return points.map(([x, y]) => [c + k * (cos * (x - c) - sin * (y - c)), c + k * (sin * (x - c) + cos * (y - c))]);
}

describe('is the photo already an aligned crop for the model?', () => {
  it('real FFHQ-aligned 512 crops: yes, for an FFHQ model at 64 or 512', () => {
    for (const name of ['cropped_faces/0040.png', 'cropped_faces/0130.png', 'ref_faces/00010.png']) {
      const { size, landmarks } = REAL[name]!;
      for (const res of [64, 512]) {
        const r = checkAlreadyAligned([face(landmarks)], size[0], size[1], ffhqTemplate(res), res);
        expect(r.aligned, `${name} at ${res}: ${r.reason}`).toBe(true);
        expect(r.distance).toBeLessThan(0.03);
        expect(Math.abs(r.scale - 1)).toBeLessThan(0.1);
      }
    }
  });

  it('the distance does not depend on the model resolution (pixel centres kept)', () => {
    const { landmarks } = REAL['cropped_faces/0040.png']!;
    const at64 = checkAlreadyAligned([face(landmarks)], 512, 512, ffhqTemplate(64), 64);
    const at512 = checkAlreadyAligned([face(landmarks)], 512, 512, ffhqTemplate(512), 512);
    expect(at64.distance).toBeCloseTo(at512.distance, 3);
    expect(at64.scale).toBeCloseTo(at512.scale, 3);
  });

  it('a whole photo with the face small and off centre: no (distance far above the limit)', () => {
    const { size, landmarks } = REAL['whole 800x800']!;
    const r = checkAlreadyAligned([face(landmarks)], size[0], size[1], ffhqTemplate(64), 64);
    expect(r.aligned).toBe(false);
    expect(r.distance).toBeGreaterThan(0.15);
    expect(r.scale).toBeGreaterThan(1.5); // a re-crop would enlarge the face about twice
  });

  it("an FFHQ crop for a model in the tight UTKFace framing: no (the model's template decides)", () => {
    const { landmarks } = REAL['cropped_faces/0130.png']!;
    const r = checkAlreadyAligned([face(landmarks)], 512, 512, utkfaceTemplate(64), 64);
    expect(r.aligned).toBe(false);
    expect(r.distance).toBeGreaterThan(0.1);
  });

  it('not square, or not exactly one face: no, whatever the points', () => {
    const { landmarks } = REAL['cropped_faces/0130.png']!;
    expect(checkAlreadyAligned([face(landmarks)], 560, 512, ffhqTemplate(64), 64).reason).toMatch(/not square/);
    expect(checkAlreadyAligned([face(landmarks)], 516, 512, ffhqTemplate(64), 64).aligned).toBe(true); // within 2%
    expect(checkAlreadyAligned([], 512, 512, ffhqTemplate(64), 64).reason).toBe('0 faces');
    expect(checkAlreadyAligned([face(landmarks), face(landmarks)], 512, 512, ffhqTemplate(64), 64).reason).toBe('2 faces');
  });

  it('a face 25% smaller or turned 10 degrees is refused even where the mean distance alone would pass', () => {
    const t = ffhqTemplate(512);
    const smaller = about(t, 512, 0.75);
    expect(templateDistance(smaller, t, 512)).toBeLessThan(0.06);
    const r1 = checkAlreadyAligned([face(smaller)], 512, 512, t, 512);
    expect(r1.aligned).toBe(false);
    expect(r1.reason).toMatch(/scale/);
    expect(r1.scale).toBeCloseTo(1 / 0.75, 3);
    const turned = about(t, 512, 1, 10);
    expect(templateDistance(turned, t, 512)).toBeLessThan(0.06);
    const r2 = checkAlreadyAligned([face(turned)], 512, 512, t, 512);
    expect(r2.aligned).toBe(false);
    expect(r2.reason).toMatch(/turn/);
    expect(Math.abs(r2.angle)).toBeCloseTo(10, 3);
    // the template itself: distance 0, no move
    const exact = checkAlreadyAligned([face(t)], 512, 512, t, 512);
    expect(exact).toMatchObject({ aligned: true, distance: 0, scale: 1 });
    expect(exact.cornerShift).toBeLessThan(1e-9);
  });

  it("maps points into the crop by the centred square, as the 'already cropped' switch crops", () => {
    // a 600x500 photo: the centred 500x500 square from x = 50, scaled to 100
    expect(
      landmarksInCrop(
        [
          [50, 0],
          [549, 499],
          [300, 250],
        ],
        600,
        500,
        100,
      ),
    ).toEqual([
      [-0.4, -0.4],
      [99.4, 99.4],
      [49.6, 49.6],
    ]);
  });
});
