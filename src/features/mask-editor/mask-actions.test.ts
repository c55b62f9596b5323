import { describe, expect, it } from 'vitest';
import type { Affine, RgbaImage } from '../../../workers/api';
import type { FaceCrop } from '../../store/facesSlice';
import type { LoadedPhoto } from '../../store/photoSlice';
import { addMarked, detectionMessage, emptyFileMessage, maskFromImport, maskImportPhoto } from './mask-actions';
import { countMasked, createMask } from './maskOps';

function image(width: number, height: number, white: (x: number, y: number) => boolean): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = white(x, y) ? 255 : 0;
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  return { width, height, data };
}

const cropToWorking: Affine = [2, 0, 100, 0, 2, 60];
const photo = { width: 800, height: 600, working: { width: 400, height: 300 }, scale: 0.5 } as LoadedPhoto;
const active = { key: 'p:0:64', faceIndex: 0, aligned: { inverse: cropToWorking } } as FaceCrop;

describe('mask actions (pure parts)', () => {
  it("gives the import the photo's original and working sizes and the active crop's alignment, or nothing without both", () => {
    expect(maskImportPhoto(photo, active)).toEqual({
      width: 800,
      height: 600,
      workingWidth: 400,
      workingHeight: 300,
      cropToWorking,
      scale: 0.5,
    });
    expect(maskImportPhoto(undefined, active)).toBeUndefined();
    expect(maskImportPhoto(photo, undefined)).toBeUndefined();
  });

  it('imports a crop-sized mask as is, a whole-photo mask placed on the face, and refuses another shape', () => {
    const crop = { width: 64, height: 64 };
    const left = maskFromImport(
      image(64, 64, (x) => x < 16),
      crop,
      undefined,
    );
    expect('mask' in left && countMasked(left.mask)).toBe(16 * 64);
    expect('note' in left).toBe(false);

    // a square at working (120..160, 80..120) is crop (10..30, 10..30); the original photo is twice that
    const whole = maskFromImport(
      image(800, 600, (x, y) => x >= 240 && x < 320 && y >= 160 && y < 240),
      crop,
      maskImportPhoto(photo, active),
    );
    if (!('mask' in whole)) throw new Error(whole.error);
    expect(whole.note).toMatch(/whole 800×600 photo/);
    expect(whole.mask.data[20 * 64 + 20]).toBe(1);
    expect(whole.mask.data[5 * 64 + 5]).toBe(0);

    const odd = maskFromImport(
      image(300, 200, () => true),
      crop,
      maskImportPhoto(photo, active),
    );
    expect('error' in odd && odd.error).toMatch(/300×200.*64×64.*800×600/);
  });

  it('refuses an empty file by name before reading it', () => {
    expect(emptyFileMessage({ name: 'mask.png', size: 0 })).toBe('“mask.png” is empty (0 bytes): choose the mask image again.');
    expect(emptyFileMessage({ name: 'mask.png', size: 1 })).toBeUndefined();
  });

  it('adds detected scratches to what is painted without erasing, and says how much it marked', () => {
    const painted = createMask(4, 2);
    painted.data.set([1, 1, 0, 0, 0, 0, 0, 0]);
    const found = createMask(4, 2);
    found.data.set([0, 1, 1, 0, 0, 0, 0, 1]);
    addMarked(painted, found);
    expect([...painted.data]).toEqual([1, 1, 1, 0, 0, 0, 0, 1]);
    expect(detectionMessage(3, 8)).toBe('Scratch detection marked 37.5% of the face. Check and correct it.');
    expect(detectionMessage(0, 8)).toBe('No scratches were found.');
  });
});
