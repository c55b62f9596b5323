import path from 'node:path';
import type { RestoreRequest, RgbaImage, TaskName } from '../../workers/api';
import { presetGuidance } from '../../workers/shared/presets';

export { squareMask } from '../helpers/pixel-geometry';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const TINY = path.join(REPO, 'tests/fixtures/models/tiny/manifest.json');

/** A smooth synthetic face-sized image (deterministic). */
export function syntheticImage(size: number, seed = 1): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let yy = 0; yy < size; yy++) {
    for (let xx = 0; xx < size; xx++) {
      const i = (yy * size + xx) * 4;
      data[i] = 128 + 100 * Math.sin((xx + seed) / 7);
      data[i + 1] = 128 + 90 * Math.cos((yy + seed) / 9);
      data[i + 2] = 128 + 60 * Math.sin((xx + yy) / 11);
      data[i + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

export function request(task: TaskName, image: RgbaImage, extra: Partial<RestoreRequest> = {}): RestoreRequest {
  return {
    image,
    guidance: presetGuidance(task),
    sampler: { kind: 'ddpm', steps: 'ddpm10', seed: 7 },
    ...extra,
  };
}
