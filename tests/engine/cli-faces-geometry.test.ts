/**
 * The runner's face path keeps pixel centres (workers/faces/alignment.ts) end to end: the photo's mask warped into
 * the crop lands on the crop pixels that show what it marks (cli/faces.ts alignWithMask), and a crop enlarged to
 * the face's size in the photo (cli/upscale.ts forPaste, the bicubic step) and pasted back puts the face where it
 * was. Measured with a bright disc, in crop pixels and photo pixels.
 */
import { describe, expect, it } from 'vitest';
import type { UpscaleMethod, RgbaImage } from '../../workers/api';
import { alignWithMask, pasteBack } from '../../cli/faces';
import { createEnlarger } from '../../cli/upscale';
import { ffhqTemplate } from '../../workers/faces/templates';
import { applyAffine } from '../../workers/faces/alignment';
import { resizeBicubic } from '../../workers/upscaler/resample';
import { blank, centroid, faceInverse, fillDisc, offset } from '../helpers/pixel-geometry';

const PHASES = [0, 0.25, 0.5, 0.75];

/** The bicubic step as the engine service runs it (no model: the fallback the app also uses). */
const bicubic = {
  upscale: async (image: RgbaImage, width: number, height: number, method: UpscaleMethod) => ({
    image: resizeBicubic(image, width, height),
    method,
    passes: [],
  }),
};

describe("the runner's face path (cli/faces.ts, cli/upscale.ts): pixel centres end to end", () => {
  for (const size of [64, 256])
    it(`a ${size} px crop of a 512 px photo: the mask on the crop, the enlarged crop pasted back`, async () => {
      const enlarge = createEnlarger(bicubic, 'bicubic', () => undefined);
      let maskOff = { dx: 0, dy: 0 };
      let pasteOff = { dx: 0, dy: 0 };
      for (const ph of PHASES) {
        const photo = blank(512, 512);
        const mask = blank(512, 512);
        const [cx, cy] = [250.1 + ph * 3.3, 262.2 + ph * 2.1];
        fillDisc(photo, cx, cy, 64);
        fillDisc(mask, cx, cy, 64);
        const inverse = faceInverse(size, (0.6 * 512) / size, 12, 250, 262);
        const template = ffhqTemplate(size);
        const landmarks = template.map(([x, y]) => applyAffine(inverse, x, y));
        const face = { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, landmarks };
        const r = alignWithMask(photo, face, template, size, mask);
        if (!r.mask) throw new Error('no mask');
        const o = offset(centroid(r.aligned.crop), centroid(r.mask));
        maskOff = { dx: maskOff.dx + o.dx / PHASES.length, dy: maskOff.dy + o.dy / PHASES.length };
        // "restored" = the crop itself, enlarged to the face's size in the photo and pasted onto an empty photo
        const piece = await enlarge.forPaste(r.aligned.crop, r.aligned.inverse);
        if (size === 64) expect(piece.crop.width).toBeGreaterThan(size);
        const back = pasteBack(blank(512, 512), [piece]);
        const p = offset(centroid(photo), centroid(back));
        pasteOff = { dx: pasteOff.dx + p.dx / PHASES.length, dy: pasteOff.dy + p.dy / PHASES.length };
      }
      const m = Math.hypot(maskOff.dx, maskOff.dy);
      expect(m, `mask off the crop's disc by (${maskOff.dx.toFixed(3)}, ${maskOff.dy.toFixed(3)}) crop px`).toBeLessThan(0.1);
      const p = Math.hypot(pasteOff.dx, pasteOff.dy);
      expect(p, `pasted disc off the photo's by (${pasteOff.dx.toFixed(3)}, ${pasteOff.dy.toFixed(3)}) photo px`).toBeLessThan(0.1);
    });
});
