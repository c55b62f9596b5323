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
  | 'face-detector';

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
 * - face-detector: see workers/faces/README.md.
 */
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
    schedule: 'linear' | 'cosine';
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
}
