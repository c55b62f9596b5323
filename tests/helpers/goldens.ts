/**
 * Loads the reference goldens written by tools/reference/make_goldens.py (layout: tools/reference/README.md).
 * All tensors are raw float32 little-endian, C order, (1,3,64,64) unless noted; multi-tensor files are
 * concatenations and are returned as one Float32Array (use `tensorAt` to slice one tensor).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const goldensDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'goldens');

export interface GoldenCall {
  /** call index k: steps/x0/grad record k, noise tensor k+1 */
  k: number;
  /** respaced step index (0 = last) */
  t_index: number;
  /** original timestep index 0..999, what the prior, restorer and guidance receive */
  t_orig: number;
  /** 0 = first call at this timestep, 1..N-1 = repeated gradient steps */
  repeat: number;
  /** dynamic weight: 1 value (inpainting) or 3 (colorization, old photo), scale included; [] otherwise */
  coefficient: number[];
  noise_multiplied_by_zero: boolean;
}

export interface GoldenConfig {
  name: string;
  task: 'none' | 'restoration' | 'ref_restoration' | 'colorization' | 'inpainting' | 'old_photo_restoration';
  guidance: {
    scale: number;
    lightness_weight: number;
    color_weight: number;
    unmasked_weight: number;
    ss_weight: number;
    ref_weight: number;
    op_lightness_weight: number;
    op_color_weight: number;
    identity_loss: 'mse' | 'cosine';
    style_mean: number[];
    style_std: number[];
    style: number | 'custom';
    style_source: string | null;
    adain_grad: 'through' | 'stop';
    update: 'mean-shift' | 'dynamic-weight' | 'ddim-score';
  };
  sampler: {
    sampler: 'ddpm' | 'ddim';
    eta: number;
    schedule: 'linear' | 'cosine';
    steps: number;
    respacing: string;
    variance: 'learned-range' | 'fixed-large' | 'fixed-small';
    prediction: 'epsilon';
    clip_denoised: boolean;
    N: number;
    s_start: number;
    s_end: number;
    /** repeats happen when lo < t_orig < hi */
    window_orig_exclusive: [number, number];
  };
  models: { prior: string; restorer: string | null; identity: string | null };
  inputs: { y: string; mask: string | null; ref: string | null };
  shape: number[];
  /** latent goldens (tests/goldens-latent): the sampled variable's shape; tensors other than inputs have it */
  latent_shape?: number[];
  latent?: { set: string; channels: number; downscale: number; mean: number[]; std: number[] };
  kept_timesteps: number[];
  respaced_betas: number[];
  noise: { file: string; seed: number; count: number };
  calls: GoldenCall[];
  repeated_timesteps_orig: number[];
  files: Record<'steps' | 'x0' | 'grad' | 'final', { file: string; count: number }>;
}

export interface Golden {
  config: GoldenConfig;
  /** number of floats in one (1,3,H,W) tensor */
  tensorSize: number;
  /** noise.count tensors: x_T, then one per call */
  noise: Float32Array;
  /** x after each call (calls.length tensors) */
  steps: Float32Array;
  /** clipped x0_hat of the first files.x0.count calls */
  x0: Float32Array;
  /** dL/dx0 (mask zeroing applied, before scale/coefficients) of the first files.grad.count calls */
  grad: Float32Array;
  final: Float32Array;
  inputs: { y: Float32Array; mask: Float32Array | null; ref: Float32Array | null };
}

export const latentGoldensDir = path.resolve(goldensDir, '..', 'goldens-latent');

function readF32(file: string, expectedFloats?: number, dir = goldensDir): Float32Array {
  const buf = readFileSync(path.join(dir, file));
  if (buf.byteLength % 4 !== 0) throw new Error(`${file}: size ${buf.byteLength} is not a multiple of 4`);
  // copy into an aligned buffer; the data is little-endian float32 (all supported hosts are little-endian)
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  if (expectedFloats !== undefined && out.length !== expectedFloats) {
    throw new Error(`${file}: ${out.length} floats, expected ${expectedFloats}`);
  }
  return out;
}

export function listGoldenCases(dir = goldensDir): string[] {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { cases: { name: string }[] };
  return index.cases.map((c) => c.name);
}

/** A golden case; `dir` = latentGoldensDir for the latent ones (their sample tensors have latent_shape). */
export function loadGolden(caseName: string, dir = goldensDir): Golden {
  const config = JSON.parse(readFileSync(path.join(dir, caseName, 'config.json'), 'utf8')) as GoldenConfig;
  const pixelSize = config.shape.reduce((a, b) => a * b, 1);
  const tensorSize = (config.latent_shape ?? config.shape).reduce((a, b) => a * b, 1);
  const f = config.files;
  const caseFile = (name: string): string => path.join(caseName, name);
  const allNoise = readF32(config.noise.file, undefined, dir);
  if (allNoise.length < config.noise.count * tensorSize) throw new Error('noise.bin is too short');
  const noise = allNoise.slice(0, config.noise.count * tensorSize);
  return {
    config,
    tensorSize,
    noise,
    steps: readF32(caseFile(f.steps.file), f.steps.count * tensorSize, dir),
    x0: readF32(caseFile(f.x0.file), f.x0.count * tensorSize, dir),
    grad: readF32(caseFile(f.grad.file), f.grad.count * tensorSize, dir),
    final: readF32(caseFile(f.final.file), tensorSize, dir),
    inputs: {
      y: readF32(config.inputs.y, pixelSize, dir),
      mask: config.inputs.mask ? readF32(config.inputs.mask, pixelSize, dir) : null,
      ref: config.inputs.ref ? readF32(config.inputs.ref, pixelSize, dir) : null,
    },
  };
}

/** The final latent's decoded image of a latent golden (pixels, (1,3,H,W)). */
export function loadDecoded(caseName: string): Float32Array {
  const config = JSON.parse(readFileSync(path.join(latentGoldensDir, caseName, 'config.json'), 'utf8')) as GoldenConfig;
  return readF32(
    path.join(caseName, 'decoded.bin'),
    config.shape.reduce((a, b) => a * b, 1),
    latentGoldensDir,
  );
}

/** The i-th (1,3,H,W) tensor of a concatenated file (a view, not a copy). */
export function tensorAt(data: Float32Array, tensorSize: number, i: number): Float32Array {
  if ((i + 1) * tensorSize > data.length) throw new RangeError(`tensor ${i} is out of range`);
  return data.subarray(i * tensorSize, (i + 1) * tensorSize);
}

/** Schedules and respacings (float64 as JSON numbers). */
export function loadScheduleGoldens(): {
  schedule: { T: number; linear: number[]; cosine: number[] };
  respacing: { T: number; respacings: Record<'linear' | 'cosine', Record<string, { kept: number[]; betas: number[] }>> };
} {
  const read = (f: string): unknown => JSON.parse(readFileSync(path.join(goldensDir, f), 'utf8'));
  return {
    schedule: read('schedule.json') as { T: number; linear: number[]; cosine: number[] },
    respacing: read('respacing.json') as {
      T: number;
      respacings: Record<'linear' | 'cosine', Record<string, { kept: number[]; betas: number[] }>>;
    },
  };
}
