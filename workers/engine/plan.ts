import type { ColorStyle, RestoreRequest, RgbaImage } from '../api';
import type { ModelManifest } from '../models/manifest-types';
import { COLOR_STYLES } from '../shared/presets';
import { keepsLightness, keepsUnmasked } from '../shared/requests';
import { countPriorCalls, repeatsAt, startIndexFor, type GradWindow } from '../shared/steps';
import { EngineError, badInput } from './errors';
import { ANALYTIC_PROPERTIES, type AnalyticProperty, type AnalyticWeights, type GraphSpec, type StepScalars } from './graph/graphs';
import { resizeChw } from './graph/resize';
import { featherFor, fillMissing, maskToChw, rgbaToChw } from './image';
import type { ModelIo } from './model-io';
import { logVarianceBounds, makeDiffusion, type Diffusion, type VarianceType } from './schedule';

/**
 * A request, validated and resolved once into what the sampling loop reads (spec section 2 and 4): the graph
 * structure, the runtime values (weights, scale, style), the schedule and its window, the CPU-side inputs
 * (photo, keep mask, references), which models run and how. The loop never looks at the request again.
 */
export interface RunPlan {
  /** the structure of the guidance graphs: the graph cache key */
  graphs: GraphSpec;
  /** runtime inputs of the graphs: a slider change changes these, not the graphs */
  weights: AnalyticWeights;
  style: ColorStyle;
  scale: number;
  /** model-based properties (perceptual, adversarial) in the order of the graph inputs gext0, gext1, ... */
  extras: { role: 'perceptual' | 'discriminator'; weight: number }[];
  /** the identity property: the network's input size, the loss and its weight */
  identity?: { size: number; loss: 'mse' | 'cosine'; weight: number; references: Float32Array[] };
  /** the restorer: not used, run once on y (it reads only y), or once per timestep */
  restorer: 'none' | 'once' | 'each-timestep';
  /** a latent run decodes x0_hat each step only when some property needs pixels */
  guided: boolean;
  diffusion: Diffusion;
  variance: VarianceType;
  /** T of the full schedule (the window's fractions are of this) */
  T: number;
  window: GradWindow;
  /**
   * The respaced index the chain starts at (the last one, T-1, from pure noise), and, when it starts below T, what it
   * starts from: the restorer's estimate or the photo, noised to that level (SamplerSettings.start).
   */
  start: { index: number; from: 'noise' | 'restorer' | 'photo' };
  /** a start from the photo with a mask: the photo with its holes filled by the nearest kept colours (CHW) */
  startPhoto?: Float32Array;
  eta: number;
  seed: number;
  variants: number;
  callsPerVariant: number;
  /** the photo as CHW floats in [-1, 1]; keep = 1 outside the mask, 0 inside (present with a mask) */
  y: Float32Array;
  keep?: Float32Array;
  /** previews: every k calls (0 = none), of x0_hat (pixels) or of the latent through its linear RGB map */
  preview: { every: number; size: number; from: 'x0' | 'latent' | 'none' };
  latentPreview?: { matrix: number[]; bias: number[] };
  /** present when the photo's lightness goes back into the result at the end (RestoreRequest.keepLightness) */
  keepLightness?: { photo: RgbaImage; mask?: RgbaImage };
  /** present when the photo's own pixels go back outside the mask at the end (feathered inside its edge) */
  keepUnmasked?: { photo: RgbaImage; mask: RgbaImage; feather: number };
  /**
   * latent sets keeping unmasked pixels: the photo (holes filled, CHW) whose latent replaces the cells clear of the
   * mask each step, and those cells (1, h x w) (GraphSpec.latentBlend)
   */
  latentBlend?: { photo: Float32Array; keepLat: Float32Array };
}

/** What planning needs of the loaded set: its manifest and the resolved input/output names of each role. */
export interface LoadedSet {
  manifest: ModelManifest;
  io: ModelIo;
}

export const MAX_SIDE = 2048;
const MAX_GRAD_STEPS = 20;
const MAX_VARIANTS = 8;
/** The extension point: model-based properties and the roles whose gradient graphs serve them. */
const MODEL_PROPERTIES = [
  { weight: 'perceptual', role: 'perceptual' },
  { weight: 'adversarial', role: 'discriminator' },
] as const;
const UPDATE_RULES = ['mean-shift', 'dynamic-global', 'dynamic-channel'];
const DEFAULT_IDENTITY_INPUT = 112;
/**
 * latent cells within this many cells of a masked pixel are sampled, not replaced: 0, only the cells a masked pixel
 * touches (on held-out faces a margin of one cell left 14,800 kept pixels to the sampler, at 19-21 dB, against 4,800)
 */
const BLEND_MARGIN_CELLS = 0;

/** Validates a request against the loaded set and resolves it; throws bad-input / no-model with what is wrong. */
export function planRun(req: RestoreRequest, set: LoadedSet, opts: { emitGrad?: boolean } = {}): RunPlan {
  const m = set.manifest;
  const { image, mask } = req;
  if (!image || !image.data || typeof image.data.length !== 'number') {
    throw badInput('The photo is missing or is not RGBA pixel data.');
  }
  if (image.data.length !== image.width * image.height * 4) {
    throw badInput(
      `The photo's pixel data has ${image.data.length} bytes; ${image.width}x${image.height} RGBA needs ${image.width * image.height * 4}.`,
    );
  }
  // a latent prior downsamples the latent grid twice more: sides must be multiples of 4 cells
  const multiple = m.latent ? m.latent.downscale * 4 : 8;
  if (image.width % multiple !== 0 || image.height % multiple !== 0 || image.width < 2 * multiple || image.height < 2 * multiple) {
    throw badInput(
      `The face crop is ${image.width}x${image.height}; the prior needs sides that are multiples of ${multiple} (the model set's size is ${m.resolution}x${m.resolution}).`,
    );
  }
  if (image.width > MAX_SIDE || image.height > MAX_SIDE) {
    throw badInput(`The face crop is ${image.width}x${image.height}; at most ${MAX_SIDE} pixels a side are supported.`);
  }
  if (mask && (mask.width !== image.width || mask.height !== image.height)) {
    throw badInput(`The mask is ${mask.width}x${mask.height} but the photo is ${image.width}x${image.height}; they must match.`);
  }
  if (mask && mask.data?.length !== mask.width * mask.height * 4) {
    throw badInput(
      `The mask's pixel data has ${mask.data?.length ?? 0} bytes; ${mask.width}x${mask.height} RGBA needs ${mask.width * mask.height * 4}.`,
    );
  }

  const gs = req.guidance;
  if (!gs) throw badInput('The request has no guidance settings.');
  for (const [k, v] of Object.entries({ scale: gs.scale, sStart: gs.sStart, sEnd: gs.sEnd, gradSteps: gs.gradSteps, ...gs.weights })) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw badInput(`Guidance setting "${k}" is ${String(v)}; it must be a finite number.`);
  }
  for (const [k, v] of Object.entries(gs.weights)) {
    if ((v as number) < 0) throw badInput(`The weight of the ${k} property is ${String(v)}; weights are 0 (off) or more.`);
  }
  if (!Number.isInteger(gs.gradSteps) || gs.gradSteps < 1 || gs.gradSteps > MAX_GRAD_STEPS) {
    throw badInput(`N (gradient steps) must be an integer from 1 to ${MAX_GRAD_STEPS}, got ${gs.gradSteps}.`);
  }
  if (!UPDATE_RULES.includes(gs.update)) {
    throw badInput(`The update rule "${String(gs.update)}" is not one of ${UPDATE_RULES.join(', ')}.`);
  }
  const loss = gs.identityLoss ?? 'mse';
  if (loss !== 'mse' && loss !== 'cosine') throw badInput(`The identity loss "${String(loss)}" is not mse or cosine.`);
  const style: ColorStyle = gs.style ?? (COLOR_STYLES[0] as ColorStyle);
  if (
    ![...style.mean, ...style.std].every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    style.mean.length !== 3 ||
    style.std.length !== 3
  ) {
    throw badInput('The colour style needs three finite means and three finite standard deviations (R, G, B).');
  }

  const s = req.sampler;
  if (!s || (s.kind !== 'ddpm' && s.kind !== 'ddim')) throw badInput(`The sampler "${String(s?.kind)}" is not ddpm or ddim.`);
  const eta = s.eta ?? 0;
  if (!Number.isFinite(eta) || eta < 0) throw badInput(`DDIM eta is ${String(eta)}; it must be 0 or more.`);
  if (!Number.isFinite(s.seed)) throw badInput(`The seed is ${String(s.seed)}; it must be a number.`);
  let diffusion: Diffusion;
  try {
    diffusion = makeDiffusion(m.diffusion.schedule, m.diffusion.steps, s.steps);
  } catch (err) {
    throw badInput(`Steps "${String(s.steps)}": ${(err as Error).message}.`);
  }
  const startFrac = s.start ?? 1;
  if (typeof startFrac !== 'number' || !(startFrac > 0 && startFrac <= 1)) {
    throw badInput(`The start is ${String(s.start)}; it must be a fraction of the schedule in (0, 1] (1 = from pure noise).`);
  }
  const every = req.previewEvery ?? 0;
  if (!Number.isInteger(every) || every < 0)
    throw badInput(`previewEvery is ${String(every)}; it must be a whole number of steps (0 = no previews).`);
  const previewSize = req.previewSize ?? 128;
  if (!Number.isInteger(previewSize) || previewSize < 1)
    throw badInput(`previewSize is ${String(previewSize)}; it must be a whole number of pixels.`);

  // which properties are on, and whether the set has the models they need
  const weights: AnalyticWeights = {
    unmasked: gs.weights.unmasked ?? 0,
    lightness: gs.weights.lightness ?? 0,
    color: gs.weights.color ?? 0,
    smooth: gs.weights.smooth ?? 0,
    identity: gs.weights.identity ?? 0,
    restorerLightness: gs.weights.restorerLightness ?? 0,
  };
  const terms: AnalyticProperty[] = ANALYTIC_PROPERTIES.filter((p) => weights[p] > 0);
  const extras = MODEL_PROPERTIES.filter((mp) => (gs.weights[mp.weight] ?? 0) > 0).map((mp) => {
    if (!set.io[mp.role]) {
      throw new EngineError('no-model', `Model set "${m.name}" has no ${mp.role} model, which the ${mp.weight} property needs.`);
    }
    return { role: mp.role, weight: gs.weights[mp.weight] as number };
  });
  let identity: RunPlan['identity'];
  if (weights.identity > 0) {
    if (!(set.io.identity && set.io['identity-vjp'])) {
      throw new EngineError('no-model', `Model set "${m.name}" has no identity network, which the identity property needs.`);
    }
    const refs = req.references ?? [];
    if (refs.length === 0) throw badInput('The identity property needs at least one reference photo of the same person.');
    const size = identityInputSize(m);
    identity = {
      size,
      loss,
      weight: weights.identity,
      references: refs.map((ref, k) => {
        if (!ref?.data || ref.data.length !== ref.width * ref.height * 4 || ref.width < 1 || ref.height < 1) {
          throw badInput(`Reference photo ${k + 1} is not RGBA pixel data of its stated size.`);
        }
        return resizeChw(rgbaToChw(ref), 3, ref.height, ref.width, size, size);
      }),
    };
  }
  const usesRestorer = weights.smooth > 0 || weights.restorerLightness > 0;
  const restorerIo = set.io.restorer;
  if (usesRestorer && !restorerIo) throw new EngineError('no-model', `Model set "${m.name}" has no restorer, which this task needs.`);
  // a restorer that reads only y gives the same estimate at every step: run it once
  const yOnly = !!restorerIo && Object.values(restorerIo.slotOf).every((slot) => slot === 'photo');
  // a start below T begins from the restorer's estimate when the set has a restorer that reads only y, else from
  // the photo
  const startsBelowT = startFrac < 1;
  const fromRestorer = startsBelowT && yOnly;
  const restorer = !usesRestorer && !fromRestorer ? 'none' : yOnly ? 'once' : 'each-timestep';
  const startIndex = startIndexFor(diffusion.timesteps, m.diffusion.steps, startFrac);
  if (startsBelowT && m.latent && !set.io.encoder) {
    throw new EngineError('no-model', `Model set "${m.name}" has no encoder, which starting below pure noise needs (start ${startFrac}).`);
  }

  const learnedRange = m.diffusion.variance === 'learned-range';
  const C = m.latent?.channels ?? 3;
  const priorOut = m.models.find((e) => e.role === 'prior')?.outputs[0]?.shape[1];
  const priorChannels = typeof priorOut === 'number' && priorOut > 0 ? priorOut : learnedRange ? 2 * C : C;
  const latent = m.latent
    ? { C, h: image.height / m.latent.downscale, w: image.width / m.latent.downscale, mean: m.latent.mean, std: m.latent.std }
    : undefined;
  const keepsPhoto = !!mask && keepsUnmasked(req);
  // a latent set without an encoder keeps the unmasked pixels by guidance and the final paste only
  const blends = !!latent && !!set.io.encoder && (req.blendLatents ?? keepsPhoto);
  const latentBlend = blends && mask ? latentKeep(mask, m.latent!.downscale, BLEND_MARGIN_CELLS) : undefined;
  // the photo with its holes filled by the nearest kept colours: what a start from the photo and the blend encode
  const filled = mask && (latentBlend || (startsBelowT && !fromRestorer)) ? rgbaToChw(fillMissing(image, mask)) : undefined;
  const graphs: GraphSpec = {
    H: image.height,
    W: image.width,
    terms,
    update: gs.update,
    sampler: s.kind,
    hasMask: !!mask,
    zeroGradInMask: gs.zeroGradInMask,
    idSize: identity?.size ?? 0,
    learnedRange,
    priorChannels,
    emitGrad: !!opts.emitGrad,
    extraGrads: extras.length,
    ...(latent ? { latent } : {}),
    ...(latentBlend ? { latentBlend: true } : {}),
  };
  const guided = !latent || terms.length > 0 || extras.length > 0;
  const window: GradWindow = { gradSteps: gs.gradSteps, sStart: gs.sStart, sEnd: gs.sEnd };
  const latentPreview = latent && !guided ? m.latent?.preview : undefined;
  let keep: Float32Array | undefined;
  if (mask) {
    const mc = maskToChw(mask);
    keep = new Float32Array(mc.length);
    for (let i = 0; i < mc.length; i++) keep[i] = mc[i] === 0 ? 1 : 0;
  }
  return {
    graphs,
    weights,
    style,
    scale: gs.scale,
    extras,
    ...(identity ? { identity } : {}),
    restorer,
    guided,
    diffusion,
    variance: m.diffusion.variance,
    T: m.diffusion.steps,
    window,
    start: { index: startIndex, from: !startsBelowT ? 'noise' : fromRestorer ? 'restorer' : 'photo' },
    ...(startsBelowT && !fromRestorer && filled ? { startPhoto: filled } : {}),
    eta,
    seed: s.seed,
    variants: Math.max(1, Math.min(MAX_VARIANTS, Math.floor(req.variants ?? 1))),
    callsPerVariant: countPriorCalls(diffusion.timesteps.slice(0, startIndex + 1), m.diffusion.steps, window),
    y: rgbaToChw(image),
    ...(keep ? { keep } : {}),
    preview: {
      every,
      size: Math.min(previewSize, image.height, image.width),
      // an unguided latent run never decodes before the end: it previews through the linear map, if the set has one
      from: every === 0 ? 'none' : latentPreview ? 'latent' : guided ? 'x0' : 'none',
    },
    ...(latentPreview ? { latentPreview: { matrix: latentPreview.matrix, bias: latentPreview.bias } } : {}),
    ...(keepsLightness(req) ? { keepLightness: { photo: image, ...(mask ? { mask } : {}) } } : {}),
    ...(keepsPhoto && mask ? { keepUnmasked: { photo: image, mask, feather: featherFor(image.width, image.height) } } : {}),
    ...(latentBlend && filled ? { latentBlend: { photo: filled, keepLat: latentBlend } } : {}),
  };
}

/**
 * The latent cells (1 = keep the photo's latent) clear of the mask: a cell is kept when no masked pixel lies in it
 * or in the `margin` cells around it. Row-major h x w.
 */
export function latentKeep(mask: RgbaImage, downscale: number, margin: number): Float32Array {
  const h = mask.height / downscale;
  const w = mask.width / downscale;
  const hit = new Uint8Array(h * w);
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++)
      if ((mask.data[(y * mask.width + x) * 4] as number) > 0) hit[Math.floor(y / downscale) * w + Math.floor(x / downscale)] = 1;
  const keep = new Float32Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      let near = false;
      for (let di = -margin; di <= margin && !near; di++)
        for (let dj = -margin; dj <= margin && !near; dj++) {
          const a = i + di,
            b = j + dj;
          near = a >= 0 && b >= 0 && a < h && b < w && hit[a * w + b] === 1;
        }
      keep[i * w + j] = near ? 0 : 1;
    }
  return keep;
}

/** How many sampler calls timestep tOrig gets (N inside the window). */
export function repeatsOf(plan: RunPlan, tOrig: number): number {
  return repeatsAt(tOrig, plan.T, plan.window);
}

/** The named scalars the graphs read at respaced step i (rounded to float32 when uploaded). */
export function stepScalars(plan: RunPlan, i: number): StepScalars {
  const d = plan.diffusion;
  const bounds = logVarianceBounds(d, i, plan.variance);
  const abar = d.alphasCumprod[i] as number;
  const abarPrev = d.alphasCumprodPrev[i] as number;
  const sigma = plan.eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
  return {
    sqrtRecipAbar: d.sqrtRecipAlphasCumprod[i] as number,
    sqrtRecipm1Abar: d.sqrtRecipm1AlphasCumprod[i] as number,
    posteriorCoef1: d.posteriorMeanCoef1[i] as number,
    posteriorCoef2: d.posteriorMeanCoef2[i] as number,
    minLogVar: bounds.minLog,
    maxLogVar: bounds.maxLog,
    scale: plan.scale,
    nonzero: i === 0 ? 0 : 1,
    sqrtOneMinusAbar: Math.sqrt(1 - abar),
    sqrtAbarPrev: Math.sqrt(abarPrev),
    sqrtOneMinusAbarPrev: Math.sqrt(Math.max(0, 1 - abarPrev)),
    ddimDirCoef: Math.sqrt(Math.max(0, 1 - abarPrev - sigma * sigma)),
    ddimSigma: sigma,
  };
}

/** The identity network's input side (manifest shape, else ArcFace's 112). */
function identityInputSize(m: ModelManifest): number {
  const s = m.models.find((e) => e.role === 'identity')?.inputs[0]?.shape[2];
  return typeof s === 'number' && s > 0 ? s : DEFAULT_IDENTITY_INPUT;
}
