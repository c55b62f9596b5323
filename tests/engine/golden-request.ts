// Pure (no Node imports): used by the Node tests and by the browser harness.
import type { RestoreRequest, RgbaImage, UpdateRule } from '../../workers/api';
import type { ModelManifest } from '../../workers/models/manifest-types';
import type { GoldenConfig } from '../helpers/goldens';

/** What goldenRequest needs of a golden case (works with files read in Node or fetched in a page). */
export interface GoldenLike {
  config: GoldenConfig;
  inputs: { y: Float32Array; mask: Float32Array | null; ref: Float32Array | null };
}

/** float CHW [-1,1] on the uint8 grid -> RGBA */
export function chwToRgbaExact(x: Float32Array, size: number, mask = false): RgbaImage {
  const n = size * size;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = x[c * n + i] as number;
      data[i * 4 + c] = Math.round(mask ? v * 255 : (v + 1) * 127.5);
    }
    data[i * 4 + 3] = 255;
  }
  return { width: size, height: size, data };
}

/** The golden case as our API request (+ the manifest it assumes). */
export function goldenRequest(g: GoldenLike): {
  request: RestoreRequest;
  schedule: 'linear' | 'cosine';
  variance: ModelManifest['diffusion']['variance'];
} {
  const c = g.config;
  const G = c.guidance;
  const size = c.shape[2] as number;
  const weights: RestoreRequest['guidance']['weights'] = {};
  let update: UpdateRule = 'mean-shift';
  let zeroGradInMask = false;
  switch (c.task) {
    case 'restoration':
      weights.smooth = G.ss_weight;
      break;
    case 'ref_restoration':
      weights.smooth = G.ss_weight;
      weights.identity = G.ref_weight;
      break;
    case 'colorization':
      weights.lightness = G.lightness_weight;
      weights.color = G.color_weight;
      update = 'dynamic-channel';
      break;
    case 'inpainting':
      weights.unmasked = G.unmasked_weight;
      update = 'dynamic-global';
      zeroGradInMask = true;
      break;
    case 'old_photo_restoration':
      weights.restorerLightness = G.op_lightness_weight;
      weights.color = G.op_color_weight;
      update = 'dynamic-channel';
      zeroGradInMask = true;
      break;
    case 'none':
      break;
  }
  const request: RestoreRequest = {
    image: chwToRgbaExact(g.inputs.y, size),
    ...(g.inputs.mask ? { mask: chwToRgbaExact(g.inputs.mask, size, true) } : {}),
    ...(g.inputs.ref ? { references: [chwToRgbaExact(g.inputs.ref, size)] } : {}),
    guidance: {
      task: 'custom',
      weights,
      scale: G.scale,
      update,
      zeroGradInMask,
      style: { mean: G.style_mean as [number, number, number], std: G.style_std as [number, number, number] },
      identityLoss: G.identity_loss,
      gradSteps: c.sampler.N,
      sStart: c.sampler.s_start,
      sEnd: c.sampler.s_end,
    },
    sampler: {
      kind: c.sampler.sampler,
      steps: /^\d+$/.test(c.sampler.respacing) ? Number(c.sampler.respacing) : (c.sampler.respacing as `ddpm${number}`),
      eta: c.sampler.eta,
      seed: 0,
    },
  };
  return { request, schedule: c.sampler.schedule, variance: c.sampler.variance };
}
