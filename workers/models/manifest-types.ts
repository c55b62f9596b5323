/**
 * The model-set manifest (version 1). A model set is data: the engine reads roles, not file names.
 * Validation lives in manifest.ts; this file only holds the shapes so every module can share them.
 */

export type ModelRole =
  | 'prior'
  | 'restorer'
  | 'identity'
  | 'identity-vjp'
  | 'perceptual'
  | 'discriminator'
  | 'face-detector'
  | 'face-landmarks'
  | 'upscaler-x2'
  | 'upscaler-x4'
  | 'decoder'
  | 'decoder-vjp'
  | 'encoder';

export interface ModelFile {
  /** path relative to the manifest, or an absolute URL */
  path: string;
  sha256: string;
  bytes: number;
  dtype: 'float32' | 'float16';
}

export interface TensorSpec {
  name: string;
  /** -1 or a string for a dynamic dimension */
  shape: (number | string)[];
  dtype: 'float32' | 'float16' | 'int64' | 'int32';
}

export interface ModelEntry {
  role: ModelRole;
  /** fp32 is required; fp16 is used when the adapter has shader-f16 */
  files: { fp32: ModelFile; fp16?: ModelFile };
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** free-form role-specific settings (see below) */
  params?: Record<string, unknown>;
}

/**
 * Role conventions (what the engine expects):
 * - prior: inputs x (1,3,H,W) float32 in [-1,1] and t (1) int64 original timestep index;
 *   output (1,3|6,H,W): eps, then v for learned-range variance.
 * - restorer: inputs x_t (1,3,H,W), y (1,3,H,W), t (1) int64 -> (1,3,H,W). params.usesXt=false
 *   marks a restorer that ignores x_t and t (then only y is fed when its inputs list only y).
 * - identity: input (1,3,S,S) RGB in [-1,1] (S = params.inputSize, 112) -> embedding (1,D).
 * - identity-vjp: inputs input (1,3,S,S), cotangent (1,D) -> grad_input (1,3,S,S).
 * - perceptual, discriminator (model-based properties, the extension point): a GRADIENT graph with
 *   inputs x0 (1,3,H,W) [and y (1,3,H,W), the input photo] -> grad (1,3,H,W) = dL/dx0 of its own loss
 *   (e.g. a VGG feature distance to y, or -log D(x0)), unweighted; the engine weights and sums it.
 * - face-detector (BlazeFace), face-landmarks (the face mesh): see workers/faces/README.md. They come in a
 *   components manifest (ComponentManifest below), not in a model set.
 * - upscaler-x2, upscaler-x4 (the super-resolution step, workers/upscaler): input (1,3,H,W) RGB in [0,1], any H, W
 *   -> output (1,3,sH,sW) in [0,1] (not clipped), s = 2 or 4; components manifest models/common/upscaler/.
 * Latent sets (manifest.latent present; the prior samples latents, the properties stay in pixels):
 * - prior: x (1,C,h,w) NORMALISED latents (z - latent.mean) / latent.std, h = resolution / downscale;
 *   output (1,C|2C,h,w).
 * - decoder: latent (1,C,h,w) RAW latents -> image (1,3,H,W) in [-1,1], not clamped.
 * - decoder-vjp: input (1,C,h,w) raw latents, cotangent (1,3,H,W) -> grad_input (1,C,h,w): the decoder's
 *   vector-Jacobian product (the engine passes the gradient straight through its [-1,1] clamp).
 * - encoder (optional): image (1,3,H,W) in [-1,1] -> latent (1,C,h,w) raw.
 * - restorer: as above but at the pixel resolution; a latent set's restorer sees y (and t) only, since
 *   there is no pixel x_t (an input named x/x_t gets the decoded x0_hat).
 */

/** How a latent model set's latents relate to its autoencoder (see tools/convert/taef2.py). */
export interface LatentSpace {
  /** latent channels C */
  channels: number;
  /** pixels per latent cell along each side (resolution / downscale = the prior's size) */
  downscale: number;
  /** per-channel normalisation the prior was trained with: z_norm = (z_raw - mean) / std */
  mean: number[];
  std: number[];
  /**
   * Cheap previews: rgb = matrix (3 x C, row-major) . z_raw + bias, per latent cell, in [-1,1], fitted by least
   * squares to the decoder's output average-pooled to the latent grid; fitPsnrDb says how well it fits.
   */
  preview?: { matrix: number[]; bias: number[]; fitPsnrDb?: number };
}

/** What the app and the runner start from for one task (chosen per model set, on held-out faces). */
export interface TaskDefaults {
  scale: number;
  steps: number;
  sampler: 'ddpm' | 'ddim';
  /** gradient steps N inside the window */
  gradSteps: number;
  update?: 'mean-shift' | 'dynamic-global' | 'dynamic-channel';
  /** property weights that differ from the paper's */
  weights?: Record<string, number>;
  /** the slider's advised range [low, high]; values outside get a warning, not a clamp */
  advised?: [number, number];
  /**
   * where the reverse chain starts, a fraction of T in (0, 1] (SamplerSettings.start); below 1 a latent set needs
   * its encoder
   */
  start?: number;
}
export interface ModelManifest {
  format: 'pgdiff-model-set';
  version: 1;
  name: string;
  /** the set's own version */
  setVersion: string;
  description?: string;
  /** licence text that the app must show to the user */
  licence: string;
  /** the prior's resolution (square) */
  resolution: number;
  diffusion: {
    steps: number;
    schedule: 'linear' | 'scaled-linear' | 'cosine';
    variance: 'learned-range' | 'fixed-large' | 'fixed-small';
    prediction: 'epsilon';
    /** how t is fed to the prior: the original index 0..T-1 */
    timestep: 'original-index';
  };
  /** five landmarks (left eye, right eye, nose, left mouth, right mouth) in the model crop's pixels */
  alignment: { template: [number, number][]; size: number };
  preprocessing: { range: '[-1,1]'; channels: 'RGB'; layout: 'NCHW' };
  models: ModelEntry[];
  /** true for random-weight test sets: the app refuses to present them as a default */
  testOnly?: boolean;
  /** present for latent sets: the prior samples the latents of `decoder` */
  latent?: LatentSpace;
  /** per-task starting settings for this set (the paper's values stay available as "paper values") */
  defaults?: Partial<Record<TaskId, TaskDefaults>>;
}

export type TaskId = 'blind' | 'colorization' | 'inpainting' | 'reference' | 'old-photo';

/**
 * Models the app uses whichever model set is loaded (the face detector and mesh): the same entries, sha256
 * checks and cache as a model set, without the diffusion fields. format "pgdiff-components", version 1.
 */
export interface ComponentManifest {
  format: 'pgdiff-components';
  version: 1;
  name: string;
  setVersion: string;
  description?: string;
  licence: string;
  models: ModelEntry[];
}
