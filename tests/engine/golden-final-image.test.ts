import { describe, expect, it } from 'vitest';
import { Engine } from '../../workers/engine/engine';
import { recordedNoise } from '../../workers/engine/rng';
import { createNodeBackend } from '../../workers/runtime/node';
import { loadGolden } from '../helpers/goldens';
import { goldenRequest } from './golden-request';
import { tinySet } from './tiny-set';

// The image a user downloads, from the production graphs (no step dumps, which switch the guidance graph to
// another variant), against the Python reference's final sample saved the reference's way:
// byte = floor(clamp((x + 1) * 127.5, 0, 255)), R, G, B in order, alpha 255.
describe('final RGBA image vs the reference (production graphs)', () => {
  for (const name of ['blind', 'colorization', 'inpainting']) {
    it(`${name}`, async () => {
      const g = loadGolden(name);
      const { request, schedule, variance } = goldenRequest(g);
      request.keepUnmasked = false; // the reference returns the raw sample
      request.keepLightness = false;
      const engine = new Engine(createNodeBackend(1));
      await engine.load(tinySet(schedule, variance));
      let img: Uint8ClampedArray;
      try {
        img = (await engine.restore(request, { noise: recordedNoise(g.noise) })).images[0]!.data;
      } finally {
        await engine.dispose();
      }
      const n = 64 * 64;
      let exact = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 3; c++) {
          const want = Math.floor(Math.min(255, Math.max(0, ((g.final[c * n + i] as number) + 1) * 127.5)));
          const d = Math.abs(want - (img[i * 4 + c] as number));
          worst = Math.max(worst, d);
          if (d === 0) exact++;
        }
        expect(img[i * 4 + 3]).toBe(255);
      }
      process.stderr.write(`final image ${name}: ${((100 * exact) / (3 * n)).toFixed(2)} % bytes exact, worst ${worst}\n`);
      // the float sample agrees to ~1e-4: only values within that of a byte boundary may round the other way
      expect(worst).toBeLessThanOrEqual(1);
      expect(exact / (3 * n)).toBeGreaterThanOrEqual(0.995);
    });
  }
});
