/**
 * THE contract between the UI (main thread) and everything that computes (worker, Node CLI).
 * The UI imports this module with `import type` only and talks through src/worker-client.ts.
 * Nothing here imports onnxruntime or touches the DOM.
 */

/** An RGBA image as the browser produces it (ImageData layout), 8 bits per channel. */
export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major RGBA. */
  data: Uint8ClampedArray;
}

/** Per-channel (R, G, B) mean and std in the model's [-1, 1] space. */
export interface ColorStyle {
  mean: [number, number, number];
  std: [number, number, number];
}

export type TaskName = 'blind' | 'colorization' | 'inpainting' | 'reference' | 'old-photo' | 'custom';

/**
 * Which properties ("classifiers") guide the sampler, each with its weight. A property that is
 * absent or has weight 0 contributes nothing. Presets (workers/shared/presets.ts) fill this in.
 */
export interface PropertyWeights {
  /** sum over mask==0 of (y - x0)^2 */
  unmasked?: number;
  /** sum (gray(y) - gray(x0))^2 */
  lightness?: number;
  /** sum (x0 - sg(AdaIN(x0, style)))^2 */
  color?: number;
  /** sum (restorer(x_t, y, t) - x0)^2 */
  smooth?: number;
  /** sum (E(x0) - E(ref))^2 ('mse') or -cos(E(x0), E(ref)) ('cosine') */
  identity?: number;
  /** old-photo composite: lightness of x0 toward lightness of the restorer output, outside the mask */
  restorerLightness?: number;
  /**
   * Model-based properties (the extension point; paper Table 2 suggests 1e-2): a model set's
   * 'perceptual' / 'discriminator' role is a gradient graph (x0 [, y]) -> dL/dx0.
   */
  perceptual?: number;
  adversarial?: number;
}

/** How the guidance gradient moves the sample (spec section 2). */
export type UpdateRule =
  | 'mean-shift' // mean' = mean - variance * g * s
  | 'dynamic-global' // x -= g * s * ||x_t - x|| / ||g||
  | 'dynamic-channel'; // the same with one coefficient per RGB channel

export interface GuidanceSettings {
  task: TaskName;
  weights: PropertyWeights;
  /** guidance scale s */
  scale: number;
  update: UpdateRule;
  /** zero the gradient inside the mask (mask = 1 where pixels are missing) */
  zeroGradInMask: boolean;
  /** colour style for the colour-statistics property; default style 0 */
  style?: ColorStyle;
  identityLoss?: 'mse' | 'cosine';
  /** N gradient steps per timestep inside the window */
  gradSteps: number;
  /** window as fractions of the full schedule: repeat when sEnd*T < t_original < sStart*T */
  sStart: number;
  sEnd: number;
}

export interface SamplerSettings {
  kind: 'ddpm' | 'ddim';
  /** 'ddpm100' style strided respacing or a plain count spread evenly; 1000 = no respacing */
  steps: number | `ddpm${number}`;
  /** DDIM only */
  eta?: number;
  seed: number;
  /**
   * Where the reverse chain starts, as a fraction of T: 1 (default, the paper) starts from pure noise x_T; below 1
   * the chain starts at that noise level from the noised initial estimate (the restorer's, else the photo),
   * as DifFace and SDEdit do, and only the steps below it run.
   */
  start?: number;
}

export interface RestoreRequest {
  /** An aligned face crop at the model's resolution (the UI aligns; the engine checks the size). */
  image: RgbaImage;
  /** Same size as image; a pixel counts as missing where its red channel > 0 (white = missing). */
  mask?: RgbaImage;
  /** Identity references, aligned crops at any size (resized to the embedding's input). */
  references?: RgbaImage[];
  guidance: GuidanceSettings;
  sampler: SamplerSettings;
  /** number of variants, each with seed + i */
  variants?: number;
  /** send an x0_hat preview every k steps (0 = never) */
  previewEvery?: number;
  /** preview edge length in pixels */
  previewSize?: number;
  /**
   * Keep the photo's own pixels outside the mask in the result (feathered inside the mask's edge), as users of
   * inpainting tools expect. Default: on when a mask is given and the unmasked-region property is used.
   */
  keepUnmasked?: boolean;
  /**
   * Latent sets with an encoder: while sampling, replace the latent cells clear of the mask by the photo's own latent
   * (noised to each step's level), so the sampler itself ends on the photo there and only the hole and its edge are
   * generated. Default: as keepUnmasked.
   */
  blendLatents?: boolean;
  /**
   * Put the photo's own lightness (the mean of R, G, B) back into the result, keeping the result's colour: the
   * detail of a grey photo survives colorization exactly. Default: on when the lightness property is used. Outside
   * a mask only, when there is one.
   */
  keepLightness?: boolean;
}

export interface RestoreResult {
  images: RgbaImage[];
  /** the restorer's smooth estimate at the last step, when the restorer was used */
  restorerEstimate?: RgbaImage;
  stats: RunStats;
}

export interface RunStats {
  backend: BackendKind;
  steps: number;
  priorCalls: number;
  totalMs: number;
  /** per-phase wall time in ms (prior, restorer, guidance, update, identity) */
  phaseMs: Record<string, number>;
  /** bytes read back from the GPU during the run, excluding the final result */
  readbackBytesBetweenSteps: number;
  /** largest single readback between steps, in elements */
  largestReadbackBetweenSteps: number;
}

export type BackendKind = 'webgpu' | 'wasm' | 'cpu';

export interface Capabilities {
  webgpu: boolean;
  shaderF16: boolean;
  adapter?: string;
  maxBufferSize?: number;
  /** the backend the engine will use */
  backend: BackendKind;
  /** why WebGPU is not used, in words a person understands */
  fallbackReason?: string;
  /** the WebGPU adapter is a software renderer (SwiftShader and the like) */
  softwareAdapter?: boolean;
  /** what was asked for: 'auto' skips software adapters */
  devicePreference?: 'auto' | 'webgpu' | 'wasm';
  threads: number;
}

/** Progress events: one callback, a discriminated union (transformers.js style). */
export type ProgressEvent =
  | { status: 'download'; file: string; loaded: number; total: number }
  | { status: 'load'; role: string; file: string }
  | { status: 'ready'; modelSet: string; backend: BackendKind }
  | {
      status: 'step';
      variant: number;
      step: number;
      total: number;
      elapsedMs: number;
      etaMs: number;
      /** small x0_hat preview */
      preview?: RgbaImage;
    }
  | { status: 'done'; elapsedMs: number }
  | { status: 'cancelled' };

export type ProgressCallback = (event: ProgressEvent) => void;

/** Where a model set comes from. */
export type ModelSource =
  | { kind: 'bundled'; name?: string }
  | { kind: 'url'; manifestUrl: string }
  | { kind: 'files'; files: { name: string; data: ArrayBuffer }[] }
  | { kind: 'manifest-object'; manifest: unknown; baseUrl: string };

export interface LoadedModelSetInfo {
  name: string;
  version: string;
  resolution: number;
  roles: string[];
  licence: string;
  totalBytes: number;
  backend: BackendKind;
  /** the alignment template: five landmarks (x, y) in the model's crop pixels */
  template: [number, number][];
  /** non-fatal problems while loading (cache full, offline fallback) */
  warnings?: string[];
  /** true for random-weight test sets, never to be presented as a restoration model */
  testOnly?: boolean;
  /** latent sets: the prior's latent grid (the app shows "256 px, sampled as 32x32x32 latents") */
  latent?: { channels: number; size: number };
  /** per-task starting settings chosen for this set (manifest `defaults`) */
  defaults?: Partial<Record<Exclude<TaskName, 'custom'>, TaskDefaultsInfo>>;
}

/** One task's starting settings from the model set (see workers/models/manifest-types.ts TaskDefaults). */
export interface TaskDefaultsInfo {
  scale: number;
  steps: number;
  sampler: 'ddpm' | 'ddim';
  gradSteps: number;
  update?: UpdateRule;
  weights?: Record<string, number>;
  advised?: [number, number];
  /** SamplerSettings.start */
  start?: number;
}

export type EngineErrorCode =
  | 'no-webgpu'
  | 'gpu-out-of-memory'
  | 'device-lost'
  | 'invalid-model'
  | 'model-load-failed'
  | 'model-too-large'
  | 'bad-input'
  | 'cancelled'
  | 'no-model'
  | 'internal';

/**
 * An engine error as data (the store keeps these). Calls reject with CodedError (workers/shared/errors.ts), which
 * crosses comlink intact (workers/shared/comlink-errors.ts); titles and default hints are in that one table.
 */
export interface EngineErrorInfo {
  code: EngineErrorCode;
  message: string;
  /** what the person can do next */
  hint?: string;
}

/** A face found in a photo: box and five landmarks in the photo's pixels. */
export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  /** left eye, right eye, nose tip, left mouth corner, right mouth corner (as seen in the image) */
  landmarks: [number, number][];
  score: number;
}

/** 2x3 affine matrix [a, b, c, d, e, f]: x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = [number, number, number, number, number, number];

export interface AlignedFace {
  /** the crop at the model's resolution, in the model's alignment template */
  crop: RgbaImage;
  /** photo -> crop */
  transform: Affine;
  /** crop -> photo */
  inverse: Affine;
}

/** A model set's manifest, checked before anything is downloaded (the Models panel shows it). */
export interface ManifestPreview {
  name: string;
  version: string;
  description?: string;
  licence: string;
  resolution: number;
  roles: string[];
  /** bytes to download with fp32 files */
  bytesFp32: number;
  /** bytes with fp16 files where the set has them (used on GPUs with shader-f16) */
  bytesFp16: number;
  testOnly: boolean;
  /** file base names the set needs: fp32 files are required, fp16 files optional */
  requiredFiles: string[];
  optionalFiles: string[];
}

/** Where a manifest to preview comes from: a web address, or the text of a picked file. */
export type ManifestPreviewSource = { kind: 'url'; manifestUrl: string } | { kind: 'text'; text: string; name: string };

/** One model set's files in the model cache. */
export interface CachedSetInfo {
  set: string;
  setVersion?: string;
  files: number;
  bytes: number;
  /** newest entry, ms since the epoch */
  storedAt: number;
}

/** The model cache (Cache Storage), grouped per set, largest first, with the origin's storage use. */
export interface ModelCacheInfo {
  /** false where Cache Storage is unavailable (warning says why) */
  available: boolean;
  warning?: string;
  sets: CachedSetInfo[];
  storage?: { usage: number; quota: number; persisted: boolean };
}

/** How a restored face is enlarged to its size in the photo: the super-resolution model, or plain bicubic. */
export type UpscaleMethod = 'esrgan' | 'bicubic';

export interface UpscaleResult {
  image: RgbaImage;
  /** what was used: 'bicubic' also when 'esrgan' was asked for and its model could not be loaded */
  method: UpscaleMethod;
  /** the model passes that ran (x4 then x2 for 64 -> 512) */
  passes: number[];
  /** why bicubic was used although 'esrgan' was asked for, in words a person understands */
  fallbackReason?: string;
}

/** The worker's API, exposed with comlink. */
export interface EngineApi {
  capabilities(): Promise<Capabilities>;
  /**
   * Faces in a whole photo, best first (BlazeFace + face mesh, bundled with the app).
   * quarterTurns: clockwise quarter turns that make the photo upright (from a rotate button).
   */
  detectFaces(photo: RgbaImage, options?: { quarterTurns?: number }): Promise<DetectedFace[]>;
  /** warp a face into the loaded model set's alignment template */
  alignFace(photo: RgbaImage, face: DetectedFace): Promise<AlignedFace>;
  /** paste restored crops back into the photo with a feathered mask */
  pasteBack(photo: RgbaImage, pieces: { crop: RgbaImage; inverse: Affine }[]): Promise<RgbaImage>;
  /** automatic scratch mask for old photos (white = scratch), same size as the input */
  detectScratches(image: RgbaImage): Promise<RgbaImage>;
  /**
   * A restored crop at width x height (the face's size in the photo): the super-resolution step when larger
   * (workers/upscaler), bicubic when asked, when not larger, or (with fallbackReason) when the model fails to load.
   */
  upscale(image: RgbaImage, width: number, height: number, method: UpscaleMethod): Promise<UpscaleResult>;
  loadModels(source: ModelSource, onProgress?: ProgressCallback): Promise<LoadedModelSetInfo>;
  /** a manifest checked (schema, sizes, licence) without downloading its models */
  previewManifest(source: ManifestPreviewSource): Promise<ManifestPreview>;
  /** what the model cache holds, per set */
  modelCache(): Promise<ModelCacheInfo>;
  /** removes one set's cached files (or all of them); returns how many were removed */
  clearModelCache(set?: string): Promise<number>;
  /** runId lets cancel() find the run; the client wraps this with an AbortSignal */
  restore(runId: string, request: RestoreRequest, onProgress?: ProgressCallback): Promise<RestoreResult>;
  cancel(runId: string): Promise<void>;
  dispose(): Promise<void>;
}
