/** Pure metadata and maths for the controls (no React): labels, defaults, slider scales. */
import type { ColorStyle, GuidanceSettings, PropertyWeights, TaskDefaultsInfo, TaskName, UpdateRule } from '../../../workers/api';
import { SCALE_ADVICE, presetGuidance } from '../../../workers/shared/presets';
import { countPriorCalls, spaceTimesteps, startIndexFor } from '../../../workers/shared/steps';
import type { PropertyKey } from '../../store/controlsSlice';

export interface TaskInfo {
  task: TaskName;
  label: string;
  blurb: string;
}

export const TASKS: readonly TaskInfo[] = [
  { task: 'blind', label: 'Sharpen a blurry face', blurb: 'Blind restoration: blur, noise, low resolution, JPEG artefacts.' },
  { task: 'old-photo', label: 'Old photo', blurb: 'Faded, grey or sepia prints; paint or detect scratches in the mask.' },
  { task: 'colorization', label: 'Colourize', blurb: 'Adds colour to a black-and-white face, in a colour style you pick.' },
  { task: 'inpainting', label: 'Fill missing parts', blurb: 'Inpainting: paint what is missing or damaged in the mask editor.' },
  { task: 'reference', label: 'Restore with reference photos', blurb: 'Uses good photos of the same person to keep their identity.' },
  { task: 'custom', label: 'Custom', blurb: 'Compose the properties yourself, each with its own weight.' },
];

export interface PropertyInfo {
  key: PropertyKey;
  label: string;
  help: string;
  /** the reference default weight (spec section 3) */
  defaultWeight: number;
  max: number;
  step: number;
}

export const PROPERTIES: readonly PropertyInfo[] = [
  {
    key: 'smooth',
    label: 'Smooth semantics',
    help: 'Follow the restorer’s clean estimate of the face (blind restoration).',
    defaultWeight: 1,
    max: 5,
    step: 0.05,
  },
  {
    key: 'unmasked',
    label: 'Keep unmasked pixels',
    help: 'Keep the photo as it is outside the mask (inpainting).',
    defaultWeight: 1,
    max: 5,
    step: 0.05,
  },
  { key: 'lightness', label: 'Lightness', help: 'Keep the brightness of the input (colorization).', defaultWeight: 1, max: 5, step: 0.05 },
  {
    key: 'color',
    label: 'Colour statistics',
    help: 'Pull the colours toward the chosen colour style.',
    defaultWeight: 0.05,
    max: 2,
    step: 0.005,
  },
  {
    key: 'identity',
    label: 'Identity',
    help: 'Look like the person in the reference photos (needs references).',
    defaultWeight: 25,
    max: 100,
    step: 0.5,
  },
  {
    key: 'restorerLightness',
    label: 'Restorer lightness',
    help: 'Old photos: brightness of the restorer’s estimate outside the mask.',
    defaultWeight: 1,
    max: 5,
    step: 0.05,
  },
];

/**
 * The default weight of a property for a task: the model set's when its defaults give one (that task's, else the
 * weight the set chose for the property in another task: a set guiding identity with another network than the
 * paper's needs another identity weight), then the preset's when the task uses it, else the spec's.
 */
export function defaultWeightFor(
  task: TaskName,
  key: PropertyKey,
  setDefaults?: Partial<Record<Exclude<TaskName, 'custom'>, TaskDefaultsInfo>>,
): number {
  if (setDefaults) {
    const own = task === 'custom' ? undefined : setDefaults[task]?.weights?.[key];
    if (own !== undefined) return own;
    for (const d of Object.values(setDefaults)) {
      const w = d?.weights?.[key];
      if (w !== undefined) return w;
    }
  }
  const preset = task === 'custom' ? undefined : presetGuidance(task).weights[key];
  return preset ?? PROPERTIES.find((p) => p.key === key)?.defaultWeight ?? 1;
}

/**
 * A weight slider's range: the property's own, widened to about 4x the default when the default lies beyond half of
 * it (a set's identity weight for its own network can be thousands: docs/training-latent.md, "Identity network").
 */
export function weightRange(key: PropertyKey, def: number): { max: number; step: number } {
  const p = PROPERTIES.find((q) => q.key === key);
  const own = { max: p?.max ?? 5, step: p?.step ?? 0.05 };
  if (!(def > own.max / 2)) return own;
  const unit = 10 ** (Math.floor(Math.log10(def * 4)) - 1);
  const max = Math.ceil((def * 4) / unit) * unit;
  return { max, step: max / 400 };
}

/**
 * Whether a task's composition reads the mask (the one answer for the mask panel, the editor's note and the run's
 * request): inpainting and old photos, the unmasked-region property, the old-photo composite (restorer lightness
 * outside the mask), or gradients zeroed inside it. The engine compiles its mask inputs on the same terms.
 */
export function usesMask(g: Pick<GuidanceSettings, 'task' | 'weights' | 'zeroGradInMask'>): boolean {
  const w = g.weights;
  return g.task === 'inpainting' || g.task === 'old-photo' || g.zeroGradInMask || (w.unmasked ?? 0) > 0 || (w.restorerLightness ?? 0) > 0;
}

/** The advised scale range for a task; custom follows its dominant property. */
export function scaleAdvice(
  g: GuidanceSettings,
  defaults?: Partial<Record<Exclude<TaskName, 'custom'>, TaskDefaultsInfo>>,
): { min: number; max: number; default: number; basis: string } {
  // the loaded model set's own advice for the task, when it has one (chosen on held-out faces)
  const d = g.task !== 'custom' ? defaults?.[g.task] : undefined;
  if (d) {
    const [min, max] = d.advised ?? [d.scale, d.scale];
    return { min, max, default: d.scale, basis: 'this model set' };
  }
  if (g.task !== 'custom') return { ...SCALE_ADVICE[g.task], basis: TASKS.find((t) => t.task === g.task)?.label ?? g.task };
  const w = g.weights;
  if ((w.restorerLightness ?? 0) > 0) return { ...SCALE_ADVICE['old-photo'], basis: 'old photo' };
  if ((w.identity ?? 0) > 0) return { ...SCALE_ADVICE.reference, basis: 'reference-based restoration' };
  if ((w.smooth ?? 0) > 0) return { ...SCALE_ADVICE.blind, basis: 'blind restoration' };
  if ((w.lightness ?? 0) > 0 || (w.color ?? 0) > 0) return { ...SCALE_ADVICE.colorization, basis: 'colorization' };
  return { ...SCALE_ADVICE.inpainting, basis: 'inpainting' };
}

/** Log-scale slider for the guidance scale: position 0..1000 <-> 1e-4..1. */
export const SCALE_MIN = 1e-4;
export const SCALE_MAX = 1;
export const SCALE_POSITIONS = 1000;

export function scaleToPosition(scale: number): number {
  const s = Math.min(SCALE_MAX, Math.max(SCALE_MIN, scale));
  return Math.round(((Math.log10(s) - Math.log10(SCALE_MIN)) / (Math.log10(SCALE_MAX) - Math.log10(SCALE_MIN))) * SCALE_POSITIONS);
}

export function positionToScale(pos: number): number {
  const f = Math.min(1, Math.max(0, pos / SCALE_POSITIONS));
  const v = 10 ** (Math.log10(SCALE_MIN) + f * (Math.log10(SCALE_MAX) - Math.log10(SCALE_MIN)));
  // 3 significant digits: what people read and type
  return Number(v.toPrecision(3));
}

export function formatScale(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

/** Step counts offered in the sampler menu (strided DDPM respacing, as the reference does). */
export const STEP_CHOICES = [25, 50, 100, 250, 1000] as const;

/** A style's colour at z standard deviations from the mean, as 0..255 RGB. */
export function styleColor(style: ColorStyle, z: number): [number, number, number] {
  const c = (i: 0 | 1 | 2) => Math.round(Math.min(255, Math.max(0, (style.mean[i] + z * style.std[i] + 1) * 127.5)));
  return [c(0), c(1), c(2)];
}

/**
 * Pixels of a swatch: a vertical ramp from -1.5 to +1.5 standard deviations (shadows to highlights)
 * with a soft radial "face" so the palette reads as skin tones. RGBA, size x size.
 */
export function renderSwatch(style: ColorStyle, size: number): Uint8ClampedArray {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x + 0.5) / size - 0.5;
      const dy = (y + 0.5) / size - 0.5;
      const r = Math.sqrt(dx * dx + dy * dy) * 2; // 0 centre, 1 edge
      const z = 1.2 * (1 - r * 1.6) - dy * 1.2;
      const [R, G, B] = styleColor(style, Math.max(-1.8, Math.min(1.8, z)));
      const i = (y * size + x) * 4;
      data[i] = R;
      data[i + 1] = G;
      data[i + 2] = B;
      data[i + 3] = 255;
    }
  }
  return data;
}

/**
 * Number of prior calls a run makes per variant, counted as the engine counts them (workers/shared/steps.ts)
 * on a 1000-step schedule (every bundled and converted set has T = 1000).
 */
export function estimatePriorCalls(steps: number | `ddpm${number}`, gradSteps: number, sStart: number, sEnd: number, start = 1): number {
  try {
    const kept = spaceTimesteps(1000, steps);
    return countPriorCalls(kept.slice(0, startIndexFor(kept, 1000, start) + 1), 1000, { gradSteps, sStart, sEnd });
  } catch {
    // a step count the schedule cannot space: the engine refuses it with a message when the run starts
    return typeof steps === 'number' ? steps : Number(steps.slice(4));
  }
}

/**
 * The update rule the reference uses for a mix of properties (spec section 2): restoration-type
 * guidance (smooth semantics, identity) shifts the mean; inpainting alone uses one dynamic weight;
 * colour and old-photo guidance use a dynamic weight per channel.
 */
export function recommendedUpdate(w: PropertyWeights): UpdateRule {
  const on = (k: keyof PropertyWeights) => (w[k] ?? 0) > 0;
  if (on('restorerLightness') || on('lightness') || on('color')) return 'dynamic-channel';
  if (on('smooth') || on('identity')) return 'mean-shift';
  if (on('unmasked')) return 'dynamic-global';
  return 'mean-shift';
}

export const UPDATE_LABELS: Record<UpdateRule, string> = {
  'mean-shift': 'Mean shift (restoration)',
  'dynamic-global': 'Dynamic, one weight (inpainting)',
  'dynamic-channel': 'Dynamic, per colour channel (colour, old photo)',
};
