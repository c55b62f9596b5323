/**
 * Noise schedules, respacing and the per-step coefficients, in float64 like guided-diffusion
 * (the coefficients are rounded to float32 only when they are fed to the graphs, as the reference's
 * `_extract_into_tensor` does).
 */

import { spaceTimesteps } from '../shared/steps';

export type ScheduleName = 'linear' | 'scaled-linear' | 'cosine';
export type VarianceType = 'learned-range' | 'fixed-large' | 'fixed-small';

export function betasFor(name: ScheduleName, T: number): Float64Array {
  const betas = new Float64Array(T);
  if (name === 'linear') {
    const scale = 1000 / T;
    const start = scale * 0.0001;
    const end = scale * 0.02;
    // np.linspace(start, end, T, dtype=float64): i * step + start, last element set to `end`
    const step = T > 1 ? (end - start) / (T - 1) : 0;
    for (let i = 0; i < T; i++) betas[i] = i * step + start;
    // numpy's linspace sets the last element exactly to `end`
    betas[T - 1] = end;
    return betas;
  }
  if (name === 'scaled-linear') {
    // Stable Diffusion's latent schedule: sqrt(beta) linear, as np.linspace(sqrt(start), sqrt(end), T) ** 2. It keeps
    // a little signal at T (alpha_bar_T ~ 0.0047 against 4e-5 for 'linear'), so a latent prior's error in x_T's mean
    // is not amplified ~150x into the first x0 estimates (docs/training-latent.md)
    const scale = 1000 / T;
    const start = Math.sqrt(scale * 0.00085);
    const end = Math.sqrt(scale * 0.012);
    const step = T > 1 ? (end - start) / (T - 1) : 0;
    for (let i = 0; i < T; i++) betas[i] = (i * step + start) ** 2;
    betas[T - 1] = end ** 2;
    return betas;
  }
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
  for (let i = 0; i < T; i++) betas[i] = Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), 0.999);
  return betas;
}

// respacing is shared with the UI's step counting (workers/shared/steps.ts)
export { spaceTimesteps } from '../shared/steps';

/** Coefficients of one (respaced) diffusion process, all float64, indexed by respaced step. */
export interface Diffusion {
  /** original timestep index for each respaced step (what the models are called with) */
  timesteps: number[];
  betas: Float64Array;
  alphasCumprod: Float64Array;
  alphasCumprodPrev: Float64Array;
  sqrtRecipAlphasCumprod: Float64Array;
  sqrtRecipm1AlphasCumprod: Float64Array;
  posteriorVariance: Float64Array;
  posteriorLogVarianceClipped: Float64Array;
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
}

export function makeDiffusion(schedule: ScheduleName, T: number, respacing: string | number): Diffusion {
  const base = betasFor(schedule, T);
  const kept = spaceTimesteps(T, respacing);
  const keptSet = new Set(kept);
  // SpacedDiffusion: new betas from the kept alpha-bars
  const betas: number[] = [];
  let lastAlphaCumprod = 1;
  let acp = 1;
  for (let i = 0; i < T; i++) {
    acp *= 1 - (base[i] as number);
    if (keptSet.has(i)) {
      betas.push(1 - acp / lastAlphaCumprod);
      lastAlphaCumprod = acp;
    }
  }
  return fromBetas(Float64Array.from(betas), kept);
}

export function fromBetas(betas: Float64Array, timesteps: number[]): Diffusion {
  const n = betas.length;
  const ac = new Float64Array(n);
  let p = 1;
  for (let i = 0; i < n; i++) {
    p *= 1 - (betas[i] as number);
    ac[i] = p;
  }
  const acPrev = new Float64Array(n);
  for (let i = 0; i < n; i++) acPrev[i] = i === 0 ? 1 : (ac[i - 1] as number);
  const f = (fn: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => fn(i));
  const postVar = f((i) => ((betas[i] as number) * (1 - (acPrev[i] as number))) / (1 - (ac[i] as number)));
  return {
    timesteps,
    betas,
    alphasCumprod: ac,
    alphasCumprodPrev: acPrev,
    sqrtRecipAlphasCumprod: f((i) => Math.sqrt(1 / (ac[i] as number))),
    sqrtRecipm1AlphasCumprod: f((i) => Math.sqrt(1 / (ac[i] as number) - 1)),
    posteriorVariance: postVar,
    // log of the posterior variance, clipped because it is 0 at the start of the chain
    posteriorLogVarianceClipped: f((i) => Math.log(n > 1 && i === 0 ? (postVar[1] as number) : (postVar[i] as number))),
    posteriorMeanCoef1: f((i) => ((betas[i] as number) * Math.sqrt(acPrev[i] as number)) / (1 - (ac[i] as number))),
    posteriorMeanCoef2: f((i) => ((1 - (acPrev[i] as number)) * Math.sqrt(1 - (betas[i] as number))) / (1 - (ac[i] as number))),
  };
}

/** min/max log-variance for step i (learned range interpolates between them; fixed uses one). */
export function logVarianceBounds(d: Diffusion, i: number, variance: VarianceType): { minLog: number; maxLog: number } {
  if (variance === 'learned-range') {
    return { minLog: d.posteriorLogVarianceClipped[i] as number, maxLog: Math.log(d.betas[i] as number) };
  }
  if (variance === 'fixed-small') {
    const v = d.posteriorLogVarianceClipped[i] as number;
    return { minLog: v, maxLog: v };
  }
  // fixed-large: posterior variance at step 1, then the betas
  const first = d.posteriorVariance.length > 1 ? (d.posteriorVariance[1] as number) : (d.betas[0] as number);
  const v = i === 0 ? Math.log(first) : Math.log(d.betas[i] as number);
  return { minLog: v, maxLog: v };
}
