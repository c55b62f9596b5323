import type { PropertyWeights, UpdateRule } from '../../api';
import { GraphBuilder } from './builder';
import { aaBilinearMatrix, transpose } from './resize';

/** Weights of the properties whose gradients are written out in the graph. */
export type AnalyticWeights = Required<Omit<PropertyWeights, 'perceptual' | 'adversarial'>>;
export type AnalyticProperty = keyof AnalyticWeights;
export const ANALYTIC_PROPERTIES: readonly AnalyticProperty[] = [
  'unmasked',
  'lightness',
  'color',
  'smooth',
  'identity',
  'restorerLightness',
];

/**
 * The structure of one request's graphs: sizes and WHICH properties are on. Values that a slider moves
 * (weights, scale, colour style) are runtime inputs, so the graph cache is keyed by this alone.
 */
export interface GraphSpec {
  /** pixel size of x0_hat (the image the properties see) */
  H: number;
  W: number;
  /**
   * Set for latent model sets: x_t lives in a (C, h, w) latent space; x0_hat in pixels is the decoder's
   * output and the pixel gradient comes back through the decoder's VJP (see buildLatentUpdateGraph).
   */
  latent?: { C: number; h: number; w: number; mean: number[]; std: number[] };
  /**
   * Latent sets with "keep unmasked pixels": after each update the latent cells clear of the mask are replaced by the
   * photo's own latent noised to the next step's level (inputs zKnown, keepLat), as blended latent diffusion does, so
   * the chain ends on the photo's encoding there and the guidance only has the hole and its edge to reconcile.
   */
  latentBlend?: boolean;
  /** the analytic properties in use; each reads its weight from the input `w_<name>` */
  terms: AnalyticProperty[];
  update: UpdateRule;
  sampler: 'ddpm' | 'ddim';
  hasMask: boolean;
  zeroGradInMask: boolean;
  /** identity embedding input size (0 = no identity term) */
  idSize: number;
  /** whether the prior's output carries the learned-range v channels */
  learnedRange: boolean;
  priorChannels: number;
  /** also output the raw gradient (tests and --dump-steps) */
  emitGrad: boolean;
  /** model-based properties whose gradients arrive as inputs gext0, gext1, ... weighted by w_gext0, ... */
  extraGrads: number;
}

/**
 * The scalars the graphs read each step, as named inputs of shape [1] (float32). Spec section 2's names:
 * abar = alpha-bar of the step, abarPrev that of the next one.
 */
export interface StepScalars {
  /** sqrt(1 / abar) */
  sqrtRecipAbar: number;
  /** sqrt(1 / abar - 1) */
  sqrtRecipm1Abar: number;
  /** posterior mean = coef1 * x0_hat + coef2 * x_t */
  posteriorCoef1: number;
  posteriorCoef2: number;
  /** log-variance bounds (learned range interpolates between them; fixed variance uses minLogVar) */
  minLogVar: number;
  maxLogVar: number;
  /** guidance scale s */
  scale: number;
  /** 0 at the last step (no noise added), else 1 */
  nonzero: number;
  /** DDIM: sqrt(1 - abar), sqrt(abarPrev), sqrt(1 - abarPrev - sigma^2), sigma */
  sqrtOneMinusAbar: number;
  sqrtAbarPrev: number;
  /** sqrt(1 - abarPrev): noising the photo's latent to the next step's level (latentBlend) */
  sqrtOneMinusAbarPrev: number;
  ddimDirCoef: number;
  ddimSigma: number;
}

/** The input name of a property's weight. */
export function weightInput(p: AnalyticProperty | `gext${number}`): string {
  return `w_${p}`;
}

function has(p: GraphSpec, term: AnalyticProperty): boolean {
  return p.terms.includes(term);
}
export function needsY(p: GraphSpec): boolean {
  return has(p, 'unmasked') || has(p, 'lightness');
}
export function needsRestorer(p: GraphSpec): boolean {
  return has(p, 'smooth') || has(p, 'restorerLightness');
}
export function needsIdentity(p: GraphSpec): boolean {
  return p.idSize > 0 && has(p, 'identity');
}
export function needsKeep(p: GraphSpec): boolean {
  return p.hasMask && (has(p, 'unmasked') || has(p, 'restorerLightness') || p.zeroGradInMask);
}

/** A step scalar as a graph input. */
function scalar(g: GraphBuilder, name: keyof StepScalars): string {
  return g.input(name, [1]);
}

/**
 * Posterior graph: from x_t and the prior output to x0_hat (clipped), the posterior mean and the
 * log-variance (learned range or fixed), plus x0_hat resized for the identity network.
 */
export function buildPosteriorGraph(p: GraphSpec): Uint8Array {
  const g = new GraphBuilder('posterior');
  const [C, h, w] = sampleDims(p);
  const img = [1, C, h, w];
  const x = g.input('x', img);
  const out = g.input('out', [1, p.priorChannels, h, w]);
  const eps = p.priorChannels === C ? out : g.sliceC(out, 0, C);
  const x0raw = g.sub(g.mul(scalar(g, 'sqrtRecipAbar'), x), g.mul(scalar(g, 'sqrtRecipm1Abar'), eps));
  // pixels are clipped to [-1,1]; latents are unbounded (the decoder soft-clamps its input)
  const x0 = p.latent ? x0raw : g.clip(x0raw, -1, 1);
  const mean = g.add(g.mul(scalar(g, 'posteriorCoef1'), x0), g.mul(scalar(g, 'posteriorCoef2'), x));
  let logvar: string;
  const minLog = scalar(g, 'minLogVar');
  const maxLog = scalar(g, 'maxLogVar');
  if (p.learnedRange) {
    const v = g.sliceC(out, C, 2 * C);
    const frac = g.scale(g.add(v, g.constF(1)), 0.5);
    logvar = g.add(g.mul(frac, maxLog), g.mul(g.sub(g.constF(1), frac), minLog));
  } else {
    // fixed variance: broadcast the scalar so the next graph's input has a fixed shape
    logvar = g.add(g.mul(x, g.constF(0)), minLog);
  }
  g.output(x0, 'x0', img);
  g.output(mean, 'mean', img);
  g.output(logvar, 'logvar', img);
  if (p.latent) {
    // the decoder reads raw latents
    const L = p.latent;
    g.output(g.add(g.mul(x0, g.constF(L.std, [1, C, 1, 1])), g.constF(L.mean, [1, C, 1, 1])), 'z0raw', img);
  } else if (needsIdentity(p)) {
    g.output(identityResize(g, p, x0), 'x0id', [1, 3, p.idSize, p.idSize]);
  }
  return g.build();
}

/** (C, h, w) of the sampled variable x_t: the image itself, or its latent. */
export function sampleDims(p: GraphSpec): [number, number, number] {
  return p.latent ? [p.latent.C, p.latent.h, p.latent.w] : [3, p.H, p.W];
}

function identityResize(g: GraphBuilder, p: GraphSpec, x0: string): string {
  const s = p.idSize;
  const ry = g.constF(aaBilinearMatrix(p.H, s), [s, p.H]);
  const rxT = g.constF(transpose(aaBilinearMatrix(p.W, s), s, p.W), [p.W, s]);
  return g.matmul(g.matmul(ry, x0), rxT);
}

/**
 * Latent sets: the decoder's output -> x0_hat in pixels (clamped to [-1,1], as the pixel posterior clips)
 * and its resize for the identity network.
 */
export function buildDecodedGraph(p: GraphSpec): Uint8Array {
  const g = new GraphBuilder('decoded');
  const img = [1, 3, p.H, p.W];
  const x0 = g.clip(g.input('image', img), -1, 1);
  g.output(x0, 'x0', img);
  if (needsIdentity(p)) g.output(identityResize(g, p, x0), 'x0id', [1, 3, p.idSize, p.idSize]);
  return g.build();
}

/** Per-channel gray = mean of RGB, shape (1,1,H,W). */
function gray(g: GraphBuilder, t: string): string {
  return g.scale(g.sum(t, [1]), 1 / 3);
}

/**
 * Guidance + update graph: the gradient of the weighted property losses w.r.t. x0_hat, then the
 * update rule, giving x_{t-1}.
 */
export function buildGuidanceGraph(p: GraphSpec): Uint8Array {
  const g = new GraphBuilder('guidance');
  const img = [1, 3, p.H, p.W];
  const u = updateInputs(g, img);
  const grad = pixelGradient(g, p, u.x0);
  const next = applyUpdate(g, p, grad, u);
  g.output(next, 'next', img);
  if (p.emitGrad) g.output(grad, 'grad', img);
  return g.build();
}

/**
 * Latent sets, first half: the properties' gradient w.r.t. the decoded x0_hat (pixels), masks included,
 * exactly as the pixel guidance computes it. Output gpix goes through the decoder's VJP.
 */
export function buildPixelGradientGraph(p: GraphSpec): Uint8Array {
  const g = new GraphBuilder('pixel_gradient');
  const img = [1, 3, p.H, p.W];
  const grad = pixelGradient(g, p, g.input('x0', img));
  g.output(grad, 'gpix', img);
  return g.build();
}

/**
 * Latent sets, second half: the latent gradient (raw latents, from decoder-vjp) scaled to the normalised
 * latents the prior samples (chain rule through z_raw = z * std + mean), then the update rule on the latent,
 * exactly as the spec writes it for x (norms of the dynamic weight over the latent, or per latent channel).
 */
export function buildLatentUpdateGraph(p: GraphSpec): Uint8Array {
  const L = p.latent;
  if (!L) throw new Error('buildLatentUpdateGraph needs a latent plan');
  const g = new GraphBuilder('latent_update');
  const lat = [1, L.C, L.h, L.w];
  const u = updateInputs(g, lat);
  let grad = g.mul(g.input('graw', lat), g.constF(L.std, [1, L.C, 1, 1]));
  const keep = p.latentBlend ? g.input('keepLat', [1, 1, L.h, L.w]) : '';
  // the kept cells are replaced after the step: their gradient would only dilute the dynamic weight's norm
  if (keep) grad = g.mul(grad, g.sub(g.constF(1), keep));
  let next = applyUpdate(g, p, grad, u);
  if (keep) {
    // q(x_{t-1} | z_photo) outside the mask, the sampled step inside: next = k * known + (1 - k) * next
    const known = g.add(g.mul(scalar(g, 'sqrtAbarPrev'), g.input('zKnown', lat)), g.mul(scalar(g, 'sqrtOneMinusAbarPrev'), u.noise));
    // (exact where k is 0 or 1: next + k * (known - next) would round)
    next = g.add(g.mul(keep, known), g.mul(g.sub(g.constF(1), keep), next));
  }
  g.output(next, 'next', lat);
  if (p.emitGrad) g.output(grad, 'grad', lat);
  return g.build();
}

/** d(weighted property losses)/d(x0_hat) in pixels, (1,3,H,W); masked where the plan says so. */
function pixelGradient(g: GraphBuilder, p: GraphSpec, x0: string): string {
  const img = [1, 3, p.H, p.W];
  const y = needsY(p) ? g.input('y', img) : '';
  const keep = needsKeep(p) ? g.input('keep', img) : '';
  const f = needsRestorer(p) ? g.clip(g.input('f', img), -1, 1) : '';
  // a property's weight w: its term is (2 w) times the residual (losses are sums of squares, spec section 3)
  const twice = (name: AnalyticProperty) => g.scale(g.input(weightInput(name), [1]), 2);
  const parts: string[] = [];
  if (has(p, 'unmasked')) {
    let d = g.sub(x0, y);
    if (keep) d = g.mul(d, keep);
    parts.push(g.mul(d, twice('unmasked')));
  }
  if (has(p, 'lightness')) {
    // loss sums the broadcast gray over 3 channels: d/dx0_c = 3 * 2(gx-gy) / 3
    parts.push(g.mul(g.sub(gray(g, x0), gray(g, y)), twice('lightness')));
  }
  if (has(p, 'restorerLightness')) {
    const d = g.sub(gray(g, x0), gray(g, f));
    if (keep) {
      // the masked sum runs over each channel's own mask: d/dx0_c = (2/3)(gx-gf) * sum_c keep_c
      const w = g.scale(g.input(weightInput('restorerLightness'), [1]), 2 / 3);
      parts.push(g.mul(g.mul(d, g.sum(keep, [1])), w));
    } else {
      parts.push(g.mul(d, twice('restorerLightness')));
    }
  }
  if (has(p, 'color')) {
    const n = p.H * p.W;
    const mu = g.mean(x0, [2, 3], n);
    const centred = g.sub(x0, mu);
    // unbiased variance + 1e-5, as the reference's AdaIN (calc_mean_std)
    const variance = g.add(g.scale(g.sumSq(centred, [2, 3]), 1 / (n - 1)), g.constF(1e-5));
    const std = g.sqrt(variance);
    // the colour style (per-channel mean and std) is an input like the weights
    const styleStd = g.input('styleStd', [1, 3, 1, 1]);
    const styleMean = g.input('styleMean', [1, 3, 1, 1]);
    const adain = g.clip(g.add(g.mul(g.div(centred, std), styleStd), styleMean), -1, 1);
    parts.push(g.mul(g.sub(x0, adain), twice('color')));
  }
  if (has(p, 'smooth')) parts.push(g.mul(g.sub(x0, f), twice('smooth')));
  if (needsIdentity(p)) {
    // the identity term arrives weighted (the cotangent graph applies its weight)
    const s = p.idSize;
    const gid = g.input('gid', [1, 3, s, s]);
    const ryT = g.constF(transpose(aaBilinearMatrix(p.H, s), s, p.H), [p.H, s]);
    const rx = g.constF(aaBilinearMatrix(p.W, s), [s, p.W]);
    parts.push(g.matmul(g.matmul(ryT, gid), rx));
  }
  // model-based properties (perceptual, adversarial): their gradient graphs ran beforehand
  for (let i = 0; i < p.extraGrads; i++) {
    parts.push(g.mul(g.input(`gext${i}`, img), g.input(weightInput(`gext${i}`), [1])));
  }
  let grad = parts.length === 0 ? g.mul(x0, g.constF(0)) : (parts[0] as string);
  for (const part of parts.slice(1)) grad = g.add(grad, part);
  // lightness terms are (1,1,H,W): broadcast to RGB so norms count every channel
  grad = g.op('Expand', [grad, g.constI64(img)]);
  if (p.zeroGradInMask && keep) grad = g.mul(grad, keep);

  return grad;
}

interface UpdateInputs {
  x0: string;
  mean: string;
  logvar: string;
  x: string;
  noise: string;
}

/** The update rule's inputs, shaped like the sampled variable (image or latent), in the graph's input order. */
function updateInputs(g: GraphBuilder, dims: number[]): UpdateInputs {
  return {
    x0: g.input('x0', dims),
    mean: g.input('mean', dims),
    logvar: g.input('logvar', dims),
    x: g.input('x', dims),
    noise: g.input('noise', dims),
  };
}

/** The update rule (spec section 2) on the sampled variable, whatever its shape. */
function applyUpdate(g: GraphBuilder, p: GraphSpec, grad: string, u: UpdateInputs): string {
  const { x0, mean, logvar, x, noise } = u;
  const s = scalar(g, 'scale');
  const nonzero = scalar(g, 'nonzero');
  let next: string;
  if (p.sampler === 'ddim') {
    // score conditioning: eps' = eps + sqrt(1-abar) * s * g, then the DDIM update
    const sra = scalar(g, 'sqrtRecipAbar');
    const srm1 = scalar(g, 'sqrtRecipm1Abar');
    const eps = g.div(g.sub(g.mul(sra, x), x0), srm1);
    const epsG = g.add(eps, g.mul(g.mul(scalar(g, 'sqrtOneMinusAbar'), s), grad));
    const x0g = g.sub(g.mul(sra, x), g.mul(srm1, epsG));
    const epsBack = g.div(g.sub(g.mul(sra, x), x0g), srm1);
    const meanPred = g.add(g.mul(x0g, scalar(g, 'sqrtAbarPrev')), g.mul(scalar(g, 'ddimDirCoef'), epsBack));
    next = g.add(meanPred, g.mul(g.mul(nonzero, scalar(g, 'ddimSigma')), noise));
  } else {
    const sigmaNoise = g.mul(g.mul(nonzero, g.exp(g.scale(logvar, 0.5))), noise);
    if (p.update === 'mean-shift') {
      const shifted = g.sub(mean, g.mul(g.mul(g.exp(logvar), grad), s));
      next = g.add(shifted, sigmaNoise);
    } else {
      const sample = g.add(mean, sigmaNoise);
      const diff = g.sub(x, sample);
      const axes = p.update === 'dynamic-channel' ? [0, 2, 3] : [0, 1, 2, 3];
      const nd = g.sqrt(g.sumSq(diff, axes));
      const ng = g.sqrt(g.sumSq(grad, axes));
      const zero = g.constF(0);
      const isZero = g.op('Equal', [ng, zero]);
      // ||g|| = 0 gives coefficient 0 instead of the reference's NaN
      const safe = g.where(isZero, g.constF(1), ng);
      const coef = g.where(isZero, zero, g.mul(g.div(nd, safe), s));
      next = g.sub(sample, g.mul(grad, coef));
    }
  }
  return next;
}

/** Cotangent of the identity loss w.r.t. the embedding, weighted by the input w_identity. */
export function buildIdentityCotangentGraph(dim: number, loss: 'mse' | 'cosine'): Uint8Array {
  const g = new GraphBuilder('identity_cotangent');
  const e = g.input('e', [1, dim]);
  const r = g.input('r', [1, dim]);
  const weight = g.input(weightInput('identity'), [1]);
  let v: string;
  if (loss === 'mse') {
    v = g.mul(g.sub(e, r), g.scale(weight, 2));
  } else {
    // L = -w * (e.r) / (|e||r|); dL/de = -w * (r / (|e||r|) - (e.r) e / (|e|^3 |r|))
    const ee = g.sum(g.mul(e, e), [1]);
    const rr = g.sum(g.mul(r, r), [1]);
    const er = g.sum(g.mul(e, r), [1]);
    const ne = g.sqrt(ee);
    const nr = g.sqrt(rr);
    const denom = g.op('Max', [g.mul(ne, nr), g.constF(1e-6)]);
    const t1 = g.div(r, denom);
    const t2 = g.mul(e, g.div(er, g.mul(denom, ee)));
    v = g.mul(g.sub(t1, t2), g.neg(weight));
  }
  g.output(v, 'v', [1, dim]);
  return g.build();
}

/** x0_hat -> a small preview (antialiased), so only a few kilobytes cross to the CPU. */
export function buildPreviewGraph(H: number, W: number, size: number): Uint8Array {
  const g = new GraphBuilder('preview');
  const x = g.input('x', [1, 3, H, W]);
  const ry = g.constF(aaBilinearMatrix(H, size), [size, H]);
  const rxT = g.constF(transpose(aaBilinearMatrix(W, size), size, W), [W, size]);
  g.output(g.matmul(g.matmul(ry, x), rxT), 'preview', [1, 3, size, size]);
  return g.build();
}

/** A 1-element reduction used as a GPU fence when timing phases. */
export function buildFenceGraph(dims: readonly number[]): Uint8Array {
  const g = new GraphBuilder('fence');
  const x = g.input('x', dims);
  g.output(
    g.sum(
      x,
      dims.map((_, i) => i),
      false,
    ),
    'sum',
    [],
  );
  return g.build();
}

/**
 * Latent sets: a cheap preview from the normalised latent x0_hat, without the decoder: a linear map from each
 * latent cell to RGB (fitted to the decoder, manifest latent.preview), then an antialiased resize.
 */
export function buildLatentPreviewGraph(p: GraphSpec, size: number, matrix: number[], bias: number[]): Uint8Array {
  const L = p.latent;
  if (!L) throw new Error('buildLatentPreviewGraph needs a latent plan');
  const g = new GraphBuilder('latent_preview');
  const x = g.input('x', [1, L.C, L.h, L.w]);
  const raw = g.add(g.mul(x, g.constF(L.std, [1, L.C, 1, 1])), g.constF(L.mean, [1, L.C, 1, 1]));
  const flat = g.op('Reshape', [raw, g.constI64([L.C, L.h * L.w])]);
  const rgb = g.add(g.matmul(g.constF(matrix, [3, L.C]), flat), g.constF(bias, [3, 1]));
  const img = g.op('Reshape', [rgb, g.constI64([1, 3, L.h, L.w])]);
  const ry = g.constF(aaBilinearMatrix(L.h, size), [size, L.h]);
  const rxT = g.constF(transpose(aaBilinearMatrix(L.w, size), size, L.w), [L.w, size]);
  g.output(g.clip(g.matmul(g.matmul(ry, img), rxT), -1, 1), 'preview', [1, 3, size, size]);
  return g.build();
}
