import type { StateCreator } from 'zustand';
import type { ColorStyle, GuidanceSettings, PropertyWeights, SamplerSettings, TaskName } from '../../workers/api';
import { COLOR_STYLES, defaultSampler, presetGuidance, withTaskDefaults } from '../../workers/shared/presets';
import type { AppState } from './index';

/** The six properties a person can switch on in "custom" mode, in display order. */
export const PROPERTY_KEYS = ['unmasked', 'lightness', 'color', 'smooth', 'identity', 'restorerLightness'] as const;
export type PropertyKey = (typeof PROPERTY_KEYS)[number];

/** Which colour style the colour-statistics property uses: one of COLOR_STYLES or the references' own. */
export type StyleChoice = 0 | 1 | 2 | 3 | 'references';

export const MAX_VARIANTS = 8;

export interface ControlsSlice {
  guidance: GuidanceSettings;
  sampler: SamplerSettings;
  variants: number;
  styleChoice: StyleChoice;
  /** keep the photo's pixels outside the mask in the result; undefined = the engine's default (on for inpainting) */
  keepUnmasked: boolean | undefined;
  setKeepUnmasked: (on: boolean) => void;
  /** start tasks from the paper's settings instead of the model set's own defaults */
  paperValues: boolean;
  setPaperValues: (on: boolean) => void;
  /** switch task: loads that task's reference preset (custom keeps the current properties) */
  setTask: (task: TaskName) => void;
  setScale: (scale: number) => void;
  /** weight undefined or 0 switches the property off (-> custom); a positive weight switches it on */
  setWeight: (key: PropertyKey, weight: number | undefined) => void;
  setGuidanceField: <K extends 'update' | 'zeroGradInMask' | 'identityLoss' | 'gradSteps' | 'sStart' | 'sEnd'>(
    key: K,
    value: GuidanceSettings[K],
  ) => void;
  setStyleChoice: (choice: StyleChoice) => void;
  /** back to the current task's reference defaults (sampler and variants untouched) */
  resetGuidance: () => void;
  setSampler: (patch: Partial<SamplerSettings>) => void;
  rollSeed: () => void;
  setVariants: (n: number) => void;
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export const createControlsSlice: StateCreator<AppState, [], [], ControlsSlice> = (set) => ({
  guidance: presetGuidance('blind'),
  sampler: defaultSampler(),
  variants: 1,
  styleChoice: 0,
  keepUnmasked: undefined,
  setKeepUnmasked: (on) => set({ keepUnmasked: on }),
  paperValues: false,
  setPaperValues: (on) =>
    set((s) => {
      const start = taskStart(s.guidance.task, { ...s, paperValues: on });
      return start ? { paperValues: on, ...start } : { paperValues: on };
    }),
  setTask: (task) =>
    set((s) => {
      if (task === 'custom') return { guidance: { ...s.guidance, task: 'custom', weights: { ...s.guidance.weights } } };
      return taskStart(task, s) ?? {};
    }),
  setScale: (scale) => set((s) => ({ guidance: { ...s.guidance, scale: Math.max(0, scale) } })),
  setWeight: (key, weight) =>
    set((s) => {
      const weights: PropertyWeights = { ...s.guidance.weights };
      const wasOn = (weights[key] ?? 0) > 0;
      const on = weight !== undefined && weight > 0;
      if (on) weights[key] = weight;
      else delete weights[key];
      // switching a property on or off makes a custom composition; tuning a weight keeps the task
      const guidance: GuidanceSettings = { ...s.guidance, weights, task: wasOn === on ? s.guidance.task : 'custom' };
      if (key === 'color' && on && !guidance.style) {
        guidance.style = COLOR_STYLES[s.styleChoice === 'references' ? 0 : s.styleChoice];
      }
      if (key === 'identity' && on && !guidance.identityLoss) guidance.identityLoss = 'mse';
      return { guidance };
    }),
  setGuidanceField: (key, value) => set((s) => ({ guidance: { ...s.guidance, [key]: value } })),
  setStyleChoice: (choice) =>
    set((s) => ({
      styleChoice: choice,
      guidance: { ...s.guidance, style: choice === 'references' ? s.guidance.style : COLOR_STYLES[choice] },
    })),
  resetGuidance: () =>
    set((s) => ({ guidance: (taskStart(s.guidance.task, s) ?? { guidance: presetGuidance(s.guidance.task) }).guidance })),
  setSampler: (patch) =>
    set((s) => {
      const sampler = { ...s.sampler, ...patch };
      if (typeof sampler.steps === 'number') sampler.steps = clamp(Math.round(sampler.steps), 1, 1000);
      if (sampler.eta !== undefined) sampler.eta = clamp(sampler.eta, 0, 1);
      if (sampler.start !== undefined) sampler.start = clamp(sampler.start, 0.05, 1);
      sampler.seed = clamp(Math.round(sampler.seed) || 0, 0, 2 ** 31 - 1);
      return { sampler };
    }),
  rollSeed: () => set((s) => ({ sampler: { ...s.sampler, seed: randomSeed() } })),
  setVariants: (n) => set({ variants: clamp(Math.round(n) || 1, 1, MAX_VARIANTS) }),
});

/**
 * A task's starting guidance (and sampler, when the model set has defaults for it): the paper's preset, then the
 * loaded set's defaults unless the person asked for the paper's values. Undefined for 'custom'.
 */
export function taskStart(
  task: TaskName,
  s: Pick<AppState, 'styleChoice' | 'sampler' | 'paperValues' | 'modelInfo'>,
): { guidance: GuidanceSettings; sampler: SamplerSettings } | undefined {
  if (task === 'custom') return undefined;
  const g = presetGuidance(task);
  const style = s.styleChoice === 'references' ? g.style : g.style ? COLOR_STYLES[s.styleChoice] : undefined;
  const d = s.paperValues ? undefined : s.modelInfo?.defaults?.[task];
  return withTaskDefaults({ ...g, style }, s.sampler, d);
}

/** The colour style the run should use, given the store (references' style when chosen and present). */
function resolveStyle(state: AppState): ColorStyle | undefined {
  const g = state.guidance;
  const usesStyle = (g.weights.color ?? 0) > 0;
  if (!usesStyle) return g.style;
  if (state.styleChoice === 'references') return state.referenceStyle ?? COLOR_STYLES[0];
  return COLOR_STYLES[state.styleChoice] ?? COLOR_STYLES[0];
}

let lastIn: [GuidanceSettings, SamplerSettings, number, StyleChoice, ColorStyle | undefined] | undefined;
let lastOut: { guidance: GuidanceSettings; sampler: SamplerSettings; variants: number } | undefined;

/**
 * What a run needs from the controls. Memoised on its inputs, so it is safe as a zustand selector
 * (it returns the same object while nothing relevant changed).
 */
export function selectRequestSettings(state: AppState): {
  guidance: GuidanceSettings;
  sampler: SamplerSettings;
  variants: number;
} {
  const inputs: [GuidanceSettings, SamplerSettings, number, StyleChoice, ColorStyle | undefined] = [
    state.guidance,
    state.sampler,
    state.variants,
    state.styleChoice,
    state.referenceStyle,
  ];
  if (lastIn && lastOut && inputs.every((v, i) => v === lastIn?.[i])) return lastOut;
  const style = resolveStyle(state);
  const guidance: GuidanceSettings = { ...state.guidance, weights: { ...state.guidance.weights } };
  if (style) guidance.style = style;
  else delete guidance.style;
  lastIn = inputs;
  lastOut = { guidance, sampler: { ...state.sampler }, variants: state.variants };
  return lastOut;
}
