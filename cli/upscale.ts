/**
 * The super-resolution step for the Node runner: a restored crop enlarged to the face's size in the photo before it
 * is pasted back (or written, with --crop-only), through the same engine service as the app (workers/upscaler).
 */
import type { Affine, EngineApi, RgbaImage, UpscaleMethod } from '../workers/api';
import { scaleCropInverse } from '../workers/upscaler/geometry';

export interface Enlarger {
  /** a crop and its crop -> photo transform, the crop enlarged to its side in the photo when that is larger */
  forPaste(crop: RgbaImage, inverse: Affine): Promise<{ crop: RgbaImage; inverse: Affine }>;
  /** a crop at width x height (larger: the super-resolution step) */
  to(crop: RgbaImage, width: number, height: number): Promise<RgbaImage>;
}

/** `warn` hears, once, why bicubic was used when esrgan was asked for. */
export function createEnlarger(service: Pick<EngineApi, 'upscale'>, method: UpscaleMethod, warn: (msg: string) => void): Enlarger {
  let warned = false;
  const to = async (crop: RgbaImage, width: number, height: number) => {
    const r = await service.upscale(crop, width, height, method);
    if (r.fallbackReason && !warned) {
      warned = true;
      warn(r.fallbackReason);
    }
    return r.image;
  };
  return {
    to,
    forPaste: async (crop, inverse) => {
      // the face's side in the photo: the crop -> photo scale times the crop's side (as the app's downloads)
      const side = Math.min(4096, Math.round(crop.width * Math.hypot(inverse[0], inverse[3])));
      if (side <= crop.width) return { crop, inverse };
      return { crop: await to(crop, side, side), inverse: scaleCropInverse(inverse, side / crop.width) };
    },
  };
}
