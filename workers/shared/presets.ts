import type { ColorStyle, GuidanceSettings, SamplerSettings, TaskDefaultsInfo, TaskName } from '../api';

/** Colour styles from CelebA-HQ (spec section 3), in [-1, 1] space. Style 0 is the dataset average. */
export const COLOR_STYLES: readonly ColorStyle[] = [
  { mean: [0.03202754, -0.16308397, -0.26475719], std: [0.53549316, 0.47539538, 0.46814889] },
  { mean: [0.05546914, -0.22203779, -0.48434922], std: [0.60425657, 0.53711116, 0.45434347] },
  { mean: [-0.43500257, -0.65664947, -0.7156179], std: [0.47355509, 0.29044732, 0.2357967] },
  { mean: [-0.35427222, -0.41545531, -0.36199731], std: [0.42282647, 0.33328968, 0.36431086] },
];

/** Guidance-scale ranges the reference advises (spec section 4), for slider bounds and hints. */
export const SCALE_ADVICE: Record<Exclude<TaskName, 'custom'>, { min: number; max: number; default: number }> = {
  blind: { min: 0.05, max: 0.1, default: 0.1 },
  colorization: { min: 0.01, max: 0.01, default: 0.01 },
  inpainting: { min: 0.01, max: 0.01, default: 0.01 },
  reference: { min: 0.05, max: 0.1, default: 0.1 },
  'old-photo': { min: 0.0015, max: 0.005, default: 0.005 },
};

const common = { gradSteps: 1, sStart: 1.0, sEnd: 0.7 } as const;

/** The five paper tasks as compositions of properties, with the reference defaults (spec section 4). */
export function presetGuidance(task: TaskName): GuidanceSettings {
  switch (task) {
    case 'blind':
      return { task, weights: { smooth: 1 }, scale: 0.1, update: 'mean-shift', zeroGradInMask: false, ...common };
    case 'reference':
      return {
        task,
        weights: { smooth: 1, identity: 25 },
        identityLoss: 'mse',
        scale: 0.1,
        update: 'mean-shift',
        zeroGradInMask: false,
        ...common,
      };
    case 'colorization':
      return {
        task,
        weights: { lightness: 1, color: 0.05 },
        style: COLOR_STYLES[0],
        scale: 0.01,
        update: 'dynamic-channel',
        zeroGradInMask: false,
        ...common,
      };
    case 'inpainting':
      return { task, weights: { unmasked: 1 }, scale: 0.01, update: 'dynamic-global', zeroGradInMask: true, ...common };
    case 'old-photo':
      return {
        task,
        weights: { restorerLightness: 1, color: 0.5 },
        style: COLOR_STYLES[0],
        scale: 0.005,
        update: 'dynamic-channel',
        zeroGradInMask: true,
        ...common,
      };
    case 'custom':
      return { task, weights: { smooth: 1 }, scale: 0.1, update: 'mean-shift', zeroGradInMask: false, ...common };
  }
}

/**
 * A task's starting settings from its model set (manifest `defaults`) on top of the paper's preset: scale, update
 * rule, N, weights, sampler and steps. Without defaults the paper's preset is returned unchanged.
 */
export function withTaskDefaults(
  guidance: GuidanceSettings,
  sampler: SamplerSettings,
  d: TaskDefaultsInfo | undefined,
): { guidance: GuidanceSettings; sampler: SamplerSettings } {
  // the paper's start: from pure noise (a start the set's defaults chose must not outlive them)
  if (!d) return { guidance, sampler: { ...sampler, start: 1 } };
  return {
    guidance: {
      ...guidance,
      scale: d.scale,
      gradSteps: d.gradSteps,
      ...(d.update ? { update: d.update } : {}),
      weights: { ...guidance.weights, ...(d.weights ?? {}) },
    },
    // a set without a start keeps the paper's: from pure noise
    sampler: { ...sampler, kind: d.sampler, steps: d.steps, start: d.start ?? 1 },
  };
}

/** The identity loss's alternative weight when the cosine variant is chosen (spec section 3). */
export const IDENTITY_COSINE_WEIGHT = 1e4;

export function defaultSampler(): SamplerSettings {
  return { kind: 'ddpm', steps: 100, eta: 0, seed: 1234 };
}

/** Style computed from reference images: average of their per-channel means and stds (spec section 3). */
export function styleFromImages(images: { width: number; height: number; data: Uint8ClampedArray }[]): ColorStyle {
  if (images.length === 0) throw new Error('styleFromImages needs at least one image');
  const mean = [0, 0, 0];
  const std = [0, 0, 0];
  for (const img of images) {
    const n = img.width * img.height;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = (img.data[i * 4 + c] as number) / 127.5 - 1;
        s += v;
        s2 += v * v;
      }
      const m = s / n;
      // unbiased, as torch.std does in the authors' colour-statistics script
      const variance = Math.max(0, (s2 - n * m * m) / Math.max(1, n - 1));
      mean[c] = (mean[c] ?? 0) + m / images.length;
      std[c] = (std[c] ?? 0) + Math.sqrt(variance) / images.length;
    }
  }
  return { mean: [mean[0] ?? 0, mean[1] ?? 0, mean[2] ?? 0], std: [std[0] ?? 0, std[1] ?? 0, std[2] ?? 0] };
}
