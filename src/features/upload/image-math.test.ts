import { describe, expect, it } from 'vitest';
import {
  MAX_PIXELS,
  applyAffine,
  centerSquareTransform,
  cropToWorkingCentres,
  invertAffine,
  readHeaderSize,
  sniffImageKind,
  toOriginalPixels,
  workingSize,
} from './image-math';

function pngHeader(w: number, h: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, w);
  new DataView(b.buffer).setUint32(20, h);
  return b;
}

function jpegHeader(w: number, h: number): Uint8Array {
  // SOI, an APP0 segment of 16 bytes, then SOF0 with height/width
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...new Array<number>(14).fill(0)];
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof]);
}

describe('sniffImageKind', () => {
  it('recognises formats by their magic bytes and rejects text', () => {
    expect(sniffImageKind(pngHeader(1, 1))).toBe('png');
    expect(sniffImageKind(jpegHeader(1, 1))).toBe('jpeg');
    expect(sniffImageKind(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffImageKind(new TextEncoder().encode('GIF89a......'))).toBe('gif');
    expect(sniffImageKind(new TextEncoder().encode('\0\0\0\x18ftypheic'))).toBe('heic');
    expect(sniffImageKind(new TextEncoder().encode('These are my notes'))).toBeUndefined();
    expect(sniffImageKind(new Uint8Array(0))).toBeUndefined();
  });
});

describe('readHeaderSize', () => {
  it('reads PNG and JPEG dimensions before decoding', () => {
    expect(readHeaderSize(pngHeader(30000, 20000), 'png')).toEqual({ width: 30000, height: 20000 });
    expect(readHeaderSize(jpegHeader(4032, 3024), 'jpeg')).toEqual({ width: 4032, height: 3024 });
  });
  it('returns undefined for a truncated header', () => {
    expect(readHeaderSize(pngHeader(10, 10).subarray(0, 20), 'png')).toBeUndefined();
    expect(readHeaderSize(jpegHeader(10, 10).subarray(0, 8), 'jpeg')).toBeUndefined();
  });
  it('flags a huge PNG as over the pixel limit', () => {
    const s = readHeaderSize(pngHeader(30000, 30000), 'png');
    expect(s && s.width * s.height > MAX_PIXELS).toBe(true);
  });
});

describe('workingSize', () => {
  it('keeps small photos as they are', () => {
    expect(workingSize(800, 600)).toEqual({ width: 800, height: 600, scale: 1 });
    expect(workingSize(2048, 100)).toEqual({ width: 2048, height: 100, scale: 1 });
  });
  it('scales the longest side down to the limit, keeping the aspect ratio', () => {
    expect(workingSize(3000, 2000)).toEqual({ width: 2048, height: 1365, scale: 2048 / 3000 });
    const tall = workingSize(3024, 4032);
    expect(tall.height).toBe(2048);
    expect(tall.width).toBe(1536);
  });
  it('never produces a zero side and rejects empty images', () => {
    expect(workingSize(100000, 10).height).toBe(1);
    expect(() => workingSize(0, 10)).toThrow(RangeError);
  });
});

describe('affine helpers', () => {
  it('maps working-photo coordinates back to the original photo, pixel centres to pixel centres', () => {
    const inv: [number, number, number, number, number, number] = [2, 0, 100, 0, 2, 50];
    const scale = 0.5; // working is half the original: working pixel x covers original pixels 2x and 2x + 1
    const [x, y] = applyAffine(toOriginalPixels(inv, scale), 10, 20);
    const [wx, wy] = applyAffine(inv, 10, 20);
    expect([x, y]).toEqual([(wx + 0.5) / scale - 0.5, (wy + 0.5) / scale - 0.5]);
    // the working copy's first pixel centre is the middle of the original's first 2 x 2 block
    expect(applyAffine(toOriginalPixels([1, 0, 0, 0, 1, 0], scale), 0, 0)).toEqual([0.5, 0.5]);
  });
  it("reads a face crop's inverse on pixel centres: the whole photo's (corners) converted, a detected face's as is", () => {
    const t = centerSquareTransform(800, 600, 64); // corners: crop pixel u spans [u, u + 1] -> photo [100 + u * 600 / 64, ...]
    const whole = cropToWorkingCentres({ faceIndex: -1, aligned: { inverse: t.inverse } });
    const k = 600 / 64;
    // crop pixel 0's centre (0.5 in corners) is photo corner coordinate 100 + 0.5k, pixel-centre coordinate that - 0.5
    expect(applyAffine(whole, 0, 0)[0]).toBeCloseTo(100 + 0.5 * k - 0.5, 12);
    expect(applyAffine(whole, 63, 63)[1]).toBeCloseTo(63.5 * k - 0.5, 12);
    const detected: [number, number, number, number, number, number] = [1.5, 0.2, 10, -0.2, 1.5, 20];
    expect(cropToWorkingCentres({ faceIndex: 2, aligned: { inverse: detected } })).toBe(detected);
  });
  it('centre square crop: corners of the crop land on the centred square', () => {
    const t = centerSquareTransform(800, 600, 512);
    expect(t.side).toBe(600);
    expect(applyAffine(t.inverse, 0, 0)).toEqual([100, 0]);
    const [x, y] = applyAffine(t.inverse, 512, 512);
    expect(x).toBeCloseTo(700, 9);
    expect(y).toBeCloseTo(600, 9);
    const [cx, cy] = applyAffine(t.transform, 700, 600);
    expect(cx).toBeCloseTo(512, 9);
    expect(cy).toBeCloseTo(512, 9);
  });
  it('invertAffine undoes an affine', () => {
    const m: [number, number, number, number, number, number] = [0.8, -0.3, 12, 0.25, 1.1, -7];
    const [x, y] = applyAffine(m, 33, 44);
    const [bx, by] = applyAffine(invertAffine(m), x, y);
    expect(bx).toBeCloseTo(33, 9);
    expect(by).toBeCloseTo(44, 9);
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(RangeError);
  });
});
