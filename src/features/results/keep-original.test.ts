import { describe, expect, it } from 'vitest';
import type { Affine, RgbaImage } from '../../../workers/api';
import { blendOutsideMask, featherFor, withLightnessOf } from '../../../workers/engine/image';
import { featherWeight, invertAffine, pasteBack, similarityTransform, warpAffine } from '../../../workers/faces/alignment';
import { scaleCropInverse } from '../../../workers/upscaler/geometry';
import { centerSquareTransform } from '../upload/image-math';
import {
  cropToOriginalCentres,
  keepOriginalInCrop,
  keepOriginalInPhoto,
  keptOf,
  originalInCropFrame,
  resizeMaskNearest,
} from './keep-original';

/** Deterministic noise (a photo with detail everywhere, so any resampling shows). */
function noise(w: number, h: number, seed: number): RgbaImage {
  let s = seed >>> 0;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (i & 3) === 3 ? 255 : s >>> 24;
  }
  return { width: w, height: h, data };
}

/** A size x size mask (white = missing) that is missing inside the rectangle. */
function rectMask(size: number, r: { x: number; y: number; w: number; h: number }): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      const v = x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h ? 255 : 0;
      data.set([v, v, v, 255], o);
    }
  }
  return { width: size, height: size, data };
}

const missing = (m: RgbaImage, x: number, y: number) => (m.data[(y * m.width + x) * 4] as number) > 0;
/** whether a and b have the same R, G, B at (x, y) (counted, not one expect per pixel: vitest is slow at that) */
const sameAt = (a: RgbaImage, b: RgbaImage, x: number, y: number) => {
  const o = (y * a.width + x) * 4;
  return a.data[o] === b.data[o] && a.data[o + 1] === b.data[o + 1] && a.data[o + 2] === b.data[o + 2];
};

/** the crop -> photo transform (pixel centres) of "already a cropped face": a side x side photo, a crop of cropSide */
const wholePhoto = (side: number, cropSide: number): Affine =>
  cropToOriginalCentres(centerSquareTransform(side, side, cropSide).inverse, 1, true);

describe("a face's crop -> original transform in pixel centres", () => {
  it('the whole photo as the face (canvas-drawn, corners): crop pixel u is the centre of its k x k block', () => {
    // 512 photo, 64 px crop: crop pixel 0 covers photo pixels 0..7, centre 3.5
    expect(wholePhoto(512, 64)).toEqual([8, 0, 3.5, 0, 8, 3.5]);
    // an 800x600 photo (centred 600 square from x = 100), a working copy at half size, a 256 crop
    const inv = centerSquareTransform(400, 300, 256).inverse;
    const p = cropToOriginalCentres(inv, 0.5, true);
    const k = 600 / 256;
    expect(p[0]).toBeCloseTo(k, 12);
    expect(p[2]).toBeCloseTo(100 + k / 2 - 0.5, 9);
    expect(p[5]).toBeCloseTo(k / 2 - 0.5, 9);
  });

  it("a detected face (the worker's warp, centres): only the working -> original step moves the centres", () => {
    expect(cropToOriginalCentres([1.5, 0.2, 10, -0.2, 1.5, 20], 1, false)).toEqual([1.5, 0.2, 10, -0.2, 1.5, 20]);
    // working pixel w is original pixels 2w .. 2w + 1 at scale 0.5: centre 2w + 0.5
    expect(cropToOriginalCentres([1, 0, 10, 0, 1, 20], 0.5, false)).toEqual([2, 0, 20.5, 0, 2, 40.5]);
  });
});

describe('the mask at the delivered size', () => {
  it('nearest neighbour on pixel centres: an 8x larger mask is 8x8 blocks, and stays binary', () => {
    const m = rectMask(8, { x: 2, y: 3, w: 3, h: 2 });
    const big = resizeMaskNearest(m, 64, 64);
    expect([big.width, big.height]).toEqual([64, 64]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) expect(missing(big, x, y)).toBe(missing(m, x >> 3, y >> 3));
    expect(new Set(big.data).size).toBe(2);
    expect(resizeMaskNearest(m, 8, 8)).toBe(m);
  });
});

describe("the original photo in the crop's frame", () => {
  it('is the photo byte for byte when the crop maps onto its pixel grid one to one (a 512 photo, a 64 px model)', () => {
    const photo = noise(512, 512, 1);
    const framed = originalInCropFrame(photo, wholePhoto(512, 64), 64, 512);
    expect([framed.width, framed.height]).toEqual([512, 512]);
    let off = 0;
    for (let i = 0; i < photo.data.length; i++) if (framed.data[i] !== photo.data[i]) off++;
    expect(off).toBe(0);
  });
});

describe('a delivered face keeps the original outside the mask', () => {
  const photo = noise(512, 512, 2);
  const mask = rectMask(64, { x: 20, y: 24, w: 16, h: 10 });
  const delivered = noise(512, 512, 3); // the enlarged model output: different everywhere
  const out = keepOriginalInCrop(delivered, photo, wholePhoto(512, 64), 64, { keptOutside: mask });
  const big = resizeMaskNearest(mask, 512, 512);
  const feather = featherFor(512, 512);

  it("outside the mask: the photo's bytes; deep inside: the model's; the band between blends", () => {
    let outside = 0;
    let deep = 0;
    let band = 0;
    let wrong = 0;
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        if (!missing(big, x, y)) {
          if (!sameAt(out, photo, x, y)) wrong++;
          outside++;
          continue;
        }
        // distance to the nearest kept pixel in a rectangle mask (8x8 blocks): the chamfer distance for these
        const d = Math.min(x - 160 + 1, 288 - x, y - 192 + 1, 272 - y);
        if (d >= feather) {
          if (!sameAt(out, delivered, x, y)) wrong++;
          deep++;
        } else {
          if (sameAt(out, delivered, x, y) && sameAt(out, photo, x, y)) wrong++;
          band++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(outside).toBe(512 * 512 - 128 * 80);
    expect(deep).toBeGreaterThan(0);
    expect(band).toBeGreaterThan(0);
    // without the step the delivered face was the model's output there: nearly every byte differed
    let differed = 0;
    for (let i = 0; i < photo.data.length; i += 4) if (photo.data[i] !== delivered.data[i]) differed++;
    expect(differed).toBeGreaterThan(0.9 * 512 * 512);
  });

  it('refuses sizes that do not match, never a silent stretch', () => {
    expect(() => keepOriginalInCrop(noise(512, 256, 1), photo, wholePhoto(512, 64), 64, { keptOutside: mask })).toThrow(/not square/);
  });
});

describe('the full photo keeps the original outside the masks', () => {
  // a 300x220 photo, two faces: A (turned, enlarged 1.7x, kept outside its mask), B (overlapping A, restored all over)
  const photo = noise(300, 220, 4);
  const sideA = 96;
  const toCropA = similarityTransform(
    [
      [60, 50],
      [150, 60],
    ],
    [
      [10, 20],
      [60, 20],
    ],
  );
  const invA = invertAffine(toCropA);
  const maskA = rectMask(48, { x: 18, y: 20, w: 10, h: 8 }); // the model's resolution: half the delivered side
  const invB: Affine = [1.2, 0, 120, 0, 1.2, 90];
  const sideB = 64;
  const cropA = noise(sideA, sideA, 5);
  const cropB = noise(sideB, sideB, 6);
  const composed = pasteBack(photo, [
    { crop: cropA, inverse: invA },
    { crop: cropB, inverse: invB },
  ]);
  const out = keepOriginalInPhoto(composed, photo, [
    { size: sideA, inverse: invA, keptOutside: maskA },
    { size: sideB, inverse: invB },
  ]);
  const cropPoint = (inv: Affine, x: number, y: number) => {
    const t = invertAffine(inv);
    return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]] as const;
  };
  const inside = (u: number, v: number, size: number, pad: number) =>
    u >= pad - 0.5 && v >= pad - 0.5 && u <= size - 0.5 - pad && v <= size - 0.5 - pad;

  it("every pixel is the photo's own byte unless a face changed it: inside A's mask, or under B", () => {
    let keptA = 0;
    let changedA = 0;
    let wrong = 0;
    let underB = 0;
    let inMask = 0;
    for (let y = 0; y < 220; y++) {
      for (let x = 0; x < 300; x++) {
        const [u, v] = cropPoint(invA, x, y);
        const [ub, vb] = cropPoint(invB, x, y);
        const inA = inside(u, v, sideA, 0.02 * sideA + 1);
        const inB = inside(ub, vb, sideB, 0);
        const mu = Math.floor(((u + 0.5) * 48) / sideA);
        const mv = Math.floor(((v + 0.5) * 48) / sideA);
        const inMaskA = inA && mu >= 0 && mv >= 0 && mu < 48 && mv < 48 && missing(maskA, mu, mv);
        if (!inB && !inMaskA) {
          // outside every change: the original, also where the paste had resampled A's crop
          if (!sameAt(out, photo, x, y)) wrong++;
          if (inA) {
            keptA++;
            if (!sameAt(composed, photo, x, y)) changedA++;
          }
        } else if (inMaskA && !inB) {
          if (!sameAt(out, composed, x, y)) wrong++;
          inMask++;
        } else if (inside(ub, vb, sideB, 0.02 * sideB + 1)) {
          // B's restoration stays, also where it overlaps A outside A's mask
          if (!sameAt(out, composed, x, y)) wrong++;
          underB++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(keptA).toBeGreaterThan(3000);
    expect(changedA).toBeGreaterThan(0.9 * keptA); // the paste had changed them: the step is what keeps them
    expect(inMask).toBeGreaterThan(100);
    expect(underB).toBeGreaterThan(3000);
  });

  it('with no kept face the composed photo is returned as it is', () => {
    expect(keepOriginalInPhoto(composed, photo, [{ size: sideB, inverse: invB }])).toBe(composed);
  });

  it('an enlarged face (crop frame at its size in the photo) comes back with the photo exact outside its mask', () => {
    // model crop 48 px, face 96 px in the photo: enlarge 2x, keep the original in the crop, paste, keep in the photo
    const inv48 = scaleCropInverse(invA, 0.5);
    const enlarged = noise(sideA, sideA, 7);
    const keptCrop = keepOriginalInCrop(enlarged, photo, inv48, 48, { keptOutside: maskA });
    const pasted = pasteBack(photo, [{ crop: keptCrop, inverse: scaleCropInverse(inv48, 2) }]);
    const full = keepOriginalInPhoto(pasted, photo, [{ size: sideA, inverse: scaleCropInverse(inv48, 2), keptOutside: maskA }]);
    let same = 0;
    let differ = 0;
    let wrong = 0;
    for (let y = 0; y < 220; y++) {
      for (let x = 0; x < 300; x++) {
        const [u, v] = cropPoint(invA, x, y);
        const mu = Math.floor(((u + 0.5) * 48) / sideA);
        const mv = Math.floor(((v + 0.5) * 48) / sideA);
        const inMaskA = mu >= 0 && mv >= 0 && mu < 48 && mv < 48 && missing(maskA, mu, mv);
        if (!inMaskA) {
          if (!sameAt(full, photo, x, y)) wrong++;
          same++;
        } else if (!sameAt(full, photo, x, y)) differ++;
      }
    }
    expect(wrong).toBe(0);
    expect(same).toBeGreaterThan(60_000);
    expect(differ).toBeGreaterThan(100);
  });
});

/** A grey photo (R = G = B) with detail in every pixel, lightness in [60, 190]. */
function greyNoise(w: number, h: number, seed: number): RgbaImage {
  const n = noise(w, h, seed);
  for (let i = 0; i < w * h; i++) {
    const v = 60 + Math.floor(((n.data[i * 4] as number) * 130) / 256);
    n.data.set([v, v, v, 255], i * 4);
  }
  return n;
}

/** A coloured "model output": lightness in [60, 190] plus a chroma of at most 30 a channel (no clamping anywhere). */
function colourNoise(w: number, h: number, seed: number): RgbaImage {
  const n = noise(w, h, seed);
  for (let i = 0; i < w * h; i++) {
    const l = 60 + Math.floor(((n.data[i * 4] as number) * 130) / 256);
    const a = Math.round(((n.data[i * 4 + 1] as number) / 255) * 30 - 15);
    const b = Math.round(((n.data[i * 4 + 2] as number) / 255) * 30 - 15);
    n.data.set([l + a, l + b, l - a - b, 255], i * 4);
  }
  return n;
}

/** withLightnessOf's lightness: the mean of R, G, B. */
const lightAt = (img: RgbaImage, x: number, y: number) => {
  const o = (y * img.width + x) * 4;
  return ((img.data[o] as number) + (img.data[o + 1] as number) + (img.data[o + 2] as number)) / 3;
};
/** the largest difference of the chroma (each channel less the lightness) of a and b at (x, y) */
const chromaOff = (a: RgbaImage, b: RgbaImage, x: number, y: number) => {
  const o = (y * a.width + x) * 4;
  const la = lightAt(a, x, y);
  const lb = lightAt(b, x, y);
  let m = 0;
  for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs((a.data[o + c] as number) - la - ((b.data[o + c] as number) - lb)));
  return m;
};
/** how far from grey a pixel is: max - min of R, G, B */
const colourAt = (img: RgbaImage, x: number, y: number) => {
  const o = (y * img.width + x) * 4;
  const px = [img.data[o] as number, img.data[o + 1] as number, img.data[o + 2] as number];
  return Math.max(...px) - Math.min(...px);
};
/** PSNR (dB) of the lightness of a against b's over the pixels `where` picks */
function lightnessPsnr(a: RgbaImage, b: RgbaImage, where: (x: number, y: number) => boolean): { psnr: number; n: number } {
  let se = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (!where(x, y)) continue;
      se += (lightAt(a, x, y) - lightAt(b, x, y)) ** 2;
      n++;
    }
  }
  return { psnr: 10 * Math.log10((255 * 255) / Math.max(1e-12, se / n)), n };
}

/** The 64 px model output enlarged 8x (bilinear, pixel centres): the upscaler's blur of every fine detail. */
const enlarge8 = (img: RgbaImage) => warpAffine(img, [8, 0, 3.5, 0, 8, 3.5], img.width * 8, img.height * 8, { edge: 'clamp' });

describe('a colorized face keeps the original lightness at its size in the photo', () => {
  const photo = greyNoise(512, 512, 11); // a grey 512 px photo: fine detail in every pixel
  const result = colourNoise(64, 64, 12); // the 64 px colorization
  const delivered = enlarge8(result);
  const all = () => true;

  it("lightness: the original's at full resolution; colour: the enlarged result's", () => {
    const out = keepOriginalInCrop(delivered, photo, wholePhoto(512, 64), 64, { keptLightness: {} });
    const kept = lightnessPsnr(out, photo, all);
    const before = lightnessPsnr(delivered, photo, all);
    expect(kept.psnr).toBeGreaterThanOrEqual(40);
    // without the step the face had the 64 px lightness, enlarged: the detail was gone
    expect(before.psnr).toBeLessThan(25);
    let chroma = 0;
    let colour = 0;
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        chroma = Math.max(chroma, chromaOff(out, delivered, x, y));
        colour += colourAt(out, x, y);
      }
    }
    // the chroma is the result's (to the rounding of each channel), so the face is not grey
    expect(chroma).toBeLessThanOrEqual(1);
    expect(colour / (512 * 512)).toBeGreaterThan(10);
  });

  it("with a mask the lightness is kept outside it only, as the engine keeps it; the mask's pixels are the result's", () => {
    const mask = rectMask(64, { x: 20, y: 24, w: 16, h: 10 });
    const big = resizeMaskNearest(mask, 512, 512);
    const out = keepOriginalInCrop(delivered, photo, wholePhoto(512, 64), 64, { keptLightness: { mask } });
    let wrong = 0;
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        if (missing(big, x, y)) {
          if (!sameAt(out, delivered, x, y)) wrong++;
        } else if (Math.abs(lightAt(out, x, y) - lightAt(photo, x, y)) > 0.5 || chromaOff(out, delivered, x, y) > 1) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });

  it("keep unmasked and keep lightness compose: outside the mask the photo's bytes, inside it the result's", () => {
    const mask = rectMask(64, { x: 20, y: 24, w: 16, h: 10 });
    const big = resizeMaskNearest(mask, 512, 512);
    const feather = featherFor(512, 512);
    const out = keepOriginalInCrop(delivered, photo, wholePhoto(512, 64), 64, { keptOutside: mask, keptLightness: { mask } });
    let outside = 0;
    let deep = 0;
    let wrong = 0;
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        const d = Math.min(x - 160 + 1, 288 - x, y - 192 + 1, 272 - y);
        if (!missing(big, x, y)) {
          if (!sameAt(out, photo, x, y)) wrong++;
          outside++;
        } else if (d >= feather) {
          if (!sameAt(out, delivered, x, y)) wrong++;
          deep++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(outside).toBe(512 * 512 - 128 * 80);
    expect(deep).toBeGreaterThan(0);
  });

  it("at the model's resolution the two rules give what the engine gives (blend, then lightness)", () => {
    const crop = greyNoise(64, 64, 13);
    const mask = rectMask(64, { x: 20, y: 24, w: 16, h: 10 });
    const identity: Affine = [1, 0, 0, 0, 1, 0];
    const engine = withLightnessOf(blendOutsideMask(result, crop, mask, featherFor(64, 64)), crop, mask);
    expect(keepOriginalInCrop(result, crop, identity, 64, { keptOutside: mask, keptLightness: { mask } }).data).toEqual(engine.data);
    const noMask = keepOriginalInCrop(result, crop, identity, 64, { keptLightness: {} });
    expect(noMask.data).toEqual(withLightnessOf(result, crop).data);
  });
});

describe('what a run kept, from its record', () => {
  const mask = rectMask(8, { x: 1, y: 1, w: 2, h: 2 });
  it('keep unmasked needs the mask; the lightness is kept outside the mask when there is one', () => {
    expect(keptOf({})).toBeUndefined();
    expect(keptOf({ keptUnmasked: true })).toBeUndefined();
    expect(keptOf({ mask, keptUnmasked: true })).toEqual({ keptOutside: mask });
    expect(keptOf({ keptLightness: true })).toEqual({ keptLightness: {} });
    expect(keptOf({ mask, keptLightness: true })).toEqual({ keptLightness: { mask } });
    expect(keptOf({ mask, keptUnmasked: true, keptLightness: true })).toEqual({ keptOutside: mask, keptLightness: { mask } });
  });
});

describe('the full photo keeps the original lightness under a colorized face', () => {
  // a grey 300x220 photo; face A (turned, 96 px, colorized: kept the lightness), face B (overlapping A, not kept)
  const photo = greyNoise(300, 220, 14);
  const sideA = 96;
  const invA = invertAffine(
    similarityTransform(
      [
        [60, 50],
        [150, 60],
      ],
      [
        [10, 20],
        [60, 20],
      ],
    ),
  );
  const invB: Affine = [1.2, 0, 120, 0, 1.2, 90];
  const sideB = 64;
  const cropA = colourNoise(sideA, sideA, 15);
  const cropB = colourNoise(sideB, sideB, 16);
  const composed = pasteBack(photo, [
    { crop: cropA, inverse: invA },
    { crop: cropB, inverse: invB },
  ]);
  const toCrop = (inv: Affine, x: number, y: number) => {
    const t = invertAffine(inv);
    return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]] as const;
  };
  /** whether the paste of a face (side, inverse) changed photo pixel (x, y): pasteBack's margin and feather */
  const pasted = (inv: Affine, side: number, x: number, y: number) => {
    const [u, v] = toCrop(inv, x, y);
    return featherWeight(u, v, side, 0.02 * side, 0.1 * side) > 0;
  };
  const maskA = rectMask(48, { x: 18, y: 20, w: 10, h: 8 });
  const inMaskA = (x: number, y: number) => {
    const [u, v] = toCrop(invA, x, y);
    const mu = Math.floor(((u + 0.5) * 48) / sideA);
    const mv = Math.floor(((v + 0.5) * 48) / sideA);
    return mu >= 0 && mv >= 0 && mu < 48 && mv < 48 && missing(maskA, mu, mv);
  };

  it("under A only: the original's lightness, the pasted colour; under B and elsewhere: as composed", () => {
    const out = keepOriginalInPhoto(composed, photo, [
      { size: sideA, inverse: invA, keptLightness: {} },
      { size: sideB, inverse: invB },
    ]);
    const onlyA = (x: number, y: number) => pasted(invA, sideA, x, y) && !pasted(invB, sideB, x, y);
    let wrong = 0;
    let underA = 0;
    let colour = 0;
    for (let y = 0; y < 220; y++) {
      for (let x = 0; x < 300; x++) {
        if (onlyA(x, y)) {
          underA++;
          colour += colourAt(out, x, y);
          if (Math.abs(lightAt(out, x, y) - lightAt(photo, x, y)) > 0.5 || chromaOff(out, composed, x, y) > 1) wrong++;
        } else if (!sameAt(out, composed, x, y)) wrong++;
      }
    }
    expect(wrong).toBe(0);
    expect(underA).toBeGreaterThan(3000);
    expect(colour / underA).toBeGreaterThan(5);
    expect(lightnessPsnr(out, photo, onlyA).psnr).toBeGreaterThanOrEqual(40);
    expect(lightnessPsnr(composed, photo, onlyA).psnr).toBeLessThan(25);
  });

  it("with A's mask: both rules give the photo's bytes outside it and the pasted face inside it", () => {
    const out = keepOriginalInPhoto(composed, photo, [{ size: sideA, inverse: invA, keptOutside: maskA, keptLightness: { mask: maskA } }]);
    // (B is not in this list: its pixels are composed ones; only pixels not under B are looked at)
    let wrong = 0;
    let inMask = 0;
    let kept = 0;
    for (let y = 0; y < 220; y++) {
      for (let x = 0; x < 300; x++) {
        if (pasted(invB, sideB, x, y) || !pasted(invA, sideA, x, y)) continue;
        if (inMaskA(x, y)) {
          inMask++;
          if (!sameAt(out, composed, x, y)) wrong++;
        } else {
          kept++;
          if (!sameAt(out, photo, x, y)) wrong++;
        }
      }
    }
    expect(wrong).toBe(0);
    expect(inMask).toBeGreaterThan(100);
    expect(kept).toBeGreaterThan(3000);
  });

  it("with A's mask and the lightness only: the original's lightness outside the mask, the pasted face inside", () => {
    const out = keepOriginalInPhoto(composed, photo, [{ size: sideA, inverse: invA, keptLightness: { mask: maskA } }]);
    let wrong = 0;
    let inMask = 0;
    for (let y = 0; y < 220; y++) {
      for (let x = 0; x < 300; x++) {
        if (pasted(invB, sideB, x, y) || !pasted(invA, sideA, x, y)) continue;
        if (inMaskA(x, y)) {
          inMask++;
          if (!sameAt(out, composed, x, y)) wrong++;
        } else if (Math.abs(lightAt(out, x, y) - lightAt(photo, x, y)) > 0.5 || chromaOff(out, composed, x, y) > 1) wrong++;
      }
    }
    expect(wrong).toBe(0);
    expect(inMask).toBeGreaterThan(100);
  });
});
