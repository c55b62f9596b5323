/**
 * The super-resolution step: a restored face crop (the model's output, 64 or 256 px) brought up to its size in the
 * photo. ESRGAN-family models from @upscalerjs (converted to ONNX by tools/upscaler, x2 and x4, any input size)
 * do the enlarging in passes; bicubic makes the last, exact-size step and is the fallback. Pure TS: the model
 * runs behind a runner function (onnxruntime-web in the worker, onnxruntime-node in the CLI and tests).
 */
import type { RgbaImage, UpscaleMethod } from '../api';
import type { DetectorRunner } from '../faces/detector';
import { resizeBicubic } from './resample';

/** The models by scale: input [1,3,h,w] RGB in [0,1], output [1,3,s*h,s*w] in [0,1]. */
export interface UpscalerRunners {
  x2?: DetectorRunner;
  x4?: DetectorRunner;
}

export interface UpscaleOptions {
  /** input pixels per tile side; large faces run tile by tile so memory stays small (default 128) */
  tile?: number;
  /** context around each tile in input pixels, more than the network's receptive radius (default 24) */
  overlap?: number;
  /** below this remaining factor the last step is bicubic instead of another model pass (default 1.25) */
  minPassFactor?: number;
}

/** The model passes that take a side of `from` px to at least `to` px (then bicubic to exactly `to`). */
export function planPasses(from: number, to: number, have: { x2: boolean; x4: boolean }, minPassFactor = 1.25): (2 | 4)[] {
  const passes: (2 | 4)[] = [];
  let side = from;
  while (side * minPassFactor < to) {
    const need = to / side;
    // the smallest model that reaches the target in one pass, else the largest there is
    const s: 2 | 4 | undefined = need <= 2 && have.x2 ? 2 : have.x4 ? 4 : have.x2 ? 2 : undefined;
    if (!s) break;
    passes.push(s);
    side *= s;
  }
  return passes;
}

/** One model pass over the whole image, tile by tile (tiles see `overlap` px of context and are cropped back). */
export async function runModel(img: RgbaImage, run: DetectorRunner, scale: number, options: UpscaleOptions = {}): Promise<RgbaImage> {
  const tile = options.tile ?? 128;
  const pad = options.overlap ?? 24;
  const W = img.width;
  const H = img.height;
  const out: RgbaImage = { width: W * scale, height: H * scale, data: new Uint8ClampedArray(W * scale * H * scale * 4) };
  const OW = out.width;
  for (let ty = 0; ty < H; ty += tile) {
    for (let tx = 0; tx < W; tx += tile) {
      const x0 = Math.max(0, tx - pad);
      const y0 = Math.max(0, ty - pad);
      const x1 = Math.min(W, tx + tile + pad);
      const y1 = Math.min(H, ty + tile + pad);
      const w = x1 - x0;
      const h = y1 - y0;
      const input = new Float32Array(3 * w * h);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const s = ((y0 + y) * W + x0 + x) * 4;
          const i = y * w + x;
          input[i] = img.data[s]! / 255;
          input[w * h + i] = img.data[s + 1]! / 255;
          input[2 * w * h + i] = img.data[s + 2]! / 255;
        }
      }
      const res = await run(input, [1, 3, h, w]);
      const t = Object.values(res)[0];
      if (!t || t.dims[2] !== h * scale || t.dims[3] !== w * scale) {
        throw new Error(`the x${scale} upscaler returned ${t?.dims.join('x') ?? 'nothing'} for a ${w}x${h} tile`);
      }
      const sw = w * scale;
      const plane = h * scale * sw;
      // copy the tile's own area (without its context) into the output
      const cx0 = (tx - x0) * scale;
      const cy0 = (ty - y0) * scale;
      const cw = Math.min(tile, W - tx) * scale;
      const ch = Math.min(tile, H - ty) * scale;
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const i = (cy0 + y) * sw + cx0 + x;
          const o = ((ty * scale + y) * OW + tx * scale + x) * 4;
          out.data[o] = t.data[i]! * 255;
          out.data[o + 1] = t.data[plane + i]! * 255;
          out.data[o + 2] = t.data[2 * plane + i]! * 255;
        }
      }
    }
  }
  // alpha is not the network's business: bicubic from the input
  const alpha = resizeBicubic(img, OW, out.height);
  for (let i = 3; i < out.data.length; i += 4) out.data[i] = alpha.data[i]!;
  return out;
}

/**
 * `img` at width x height. Larger targets go through the model passes (then bicubic to the exact size); smaller
 * ones, and everything when method is 'bicubic' or no model is given, are plain bicubic.
 */
export async function upscaleImage(
  img: RgbaImage,
  width: number,
  height: number,
  method: UpscaleMethod,
  runners: UpscalerRunners,
  options: UpscaleOptions = {},
): Promise<{ image: RgbaImage; passes: number[] }> {
  const from = Math.min(img.width, img.height);
  const to = Math.max(width / img.width, height / img.height) * from;
  const passes = method === 'esrgan' ? planPasses(from, to, { x2: !!runners.x2, x4: !!runners.x4 }, options.minPassFactor) : [];
  let cur = img;
  for (const s of passes) cur = await runModel(cur, (s === 2 ? runners.x2 : runners.x4)!, s, options);
  return { image: cur.width === width && cur.height === height ? cur : resizeBicubic(cur, width, height), passes };
}
