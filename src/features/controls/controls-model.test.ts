import { describe, expect, it } from 'vitest';
import { COLOR_STYLES, SCALE_ADVICE, presetGuidance } from '../../../workers/shared/presets';
import {
  recommendedUpdate,
  defaultWeightFor,
  estimatePriorCalls,
  positionToScale,
  renderSwatch,
  scaleAdvice,
  scaleToPosition,
  styleColor,
  usesMask,
  weightRange,
} from './controls-model';

describe('controls model', () => {
  it('maps the guidance scale to a log slider and back within 3 significant digits', () => {
    for (const v of [0.0015, 0.005, 0.01, 0.05, 0.1, 1]) {
      const back = positionToScale(scaleToPosition(v));
      expect(Math.abs(back - v) / v).toBeLessThan(0.01);
    }
    expect(scaleToPosition(0)).toBe(0);
    expect(scaleToPosition(10)).toBe(1000);
    expect(scaleToPosition(0.01)).toBe(500);
  });
  it('gives each task its reference advice and custom the one of its dominant property', () => {
    expect(scaleAdvice(presetGuidance('old-photo'))).toMatchObject(SCALE_ADVICE['old-photo']);
    const custom = { ...presetGuidance('custom'), weights: { lightness: 1 } };
    expect(scaleAdvice(custom).max).toBe(0.01);
    expect(scaleAdvice({ ...custom, weights: { identity: 25 } }).max).toBe(0.1);
    // a model set's own advice wins for its tasks
    const d = { blind: { scale: 2, steps: 50, sampler: 'ddpm' as const, gradSteps: 1, advised: [1, 4] as [number, number] } };
    expect(scaleAdvice(presetGuidance('blind'), d)).toEqual({ min: 1, max: 4, default: 2, basis: 'this model set' });
    expect(scaleAdvice(presetGuidance('inpainting'), d).basis).not.toBe('this model set');
  });
  it('default weights come from the task preset, else from the spec', () => {
    expect(defaultWeightFor('old-photo', 'color')).toBe(0.5);
    expect(defaultWeightFor('colorization', 'color')).toBe(0.05);
    expect(defaultWeightFor('blind', 'identity')).toBe(25);
  });
  it("a model set's default weights win: the task's own, else the one the set chose for the property elsewhere", () => {
    const base = { scale: 0.1, steps: 50, sampler: 'ddim' as const, gradSteps: 1 };
    const d = { reference: { ...base, weights: { identity: 20000 } }, colorization: { ...base, weights: { color: 0.2 } }, blind: base };
    expect(defaultWeightFor('reference', 'identity', d)).toBe(20000);
    // identity switched on in another task or a custom mix: the set's identity weight, not the paper's 25
    expect(defaultWeightFor('custom', 'identity', d)).toBe(20000);
    expect(defaultWeightFor('blind', 'identity', d)).toBe(20000);
    expect(defaultWeightFor('colorization', 'color', d)).toBe(0.2);
    // properties the set says nothing about keep the preset's or the spec's
    expect(defaultWeightFor('old-photo', 'color', { blind: base })).toBe(0.5);
    expect(defaultWeightFor('reference', 'smooth', d)).toBe(1);
    expect(defaultWeightFor('reference', 'identity', undefined)).toBe(25);
  });
  it('a weight slider keeps its own range unless the default lies beyond half of it, then reaches about 4x the default', () => {
    expect(weightRange('identity', 25)).toEqual({ max: 100, step: 0.5 });
    expect(weightRange('color', 0.2)).toEqual({ max: 2, step: 0.005 });
    const wide = weightRange('identity', 20000);
    expect(wide.max).toBe(80000);
    expect(wide.step).toBe(200);
    const odd = weightRange('identity', 3000);
    expect(odd.max).toBeGreaterThanOrEqual(12000);
    expect(odd.max).toBeLessThan(20000);
  });
  it('renders a swatch whose average colour is near the style mean', () => {
    const style = COLOR_STYLES[2];
    if (!style) throw new Error('style 2 missing');
    const px = renderSwatch(style, 32);
    const mean = [0, 0, 0];
    for (let i = 0; i < px.length; i += 4) for (let c = 0; c < 3; c++) mean[c] = (mean[c] ?? 0) + (px[i + c] as number) / (px.length / 4);
    const expected = styleColor(style, 0);
    for (let c = 0; c < 3; c++) expect(Math.abs((mean[c] ?? 0) - (expected[c] ?? 0))).toBeLessThan(25);
    // style 2 is darker than style 0
    const s0 = COLOR_STYLES[0];
    if (!s0) throw new Error('style 0 missing');
    expect(styleColor(style, 0)[0]).toBeLessThan(styleColor(s0, 0)[0]);
  });
  it('estimates prior calls with N gradient steps inside the window', () => {
    expect(estimatePriorCalls(100, 1, 1, 0.7)).toBe(100);
    expect(estimatePriorCalls(100, 3, 1, 0.7)).toBe(160);
    // counted as the engine counts (workers/shared/steps.ts): ddpm50 keeps 0, 20, ..., 980 and the window
    // 500 < t < 1000 is open, so 24 timesteps run twice
    expect(estimatePriorCalls('ddpm50', 2, 1, 0.5)).toBe(74);
    // steps the schedule cannot space: the plain count (the engine refuses them with a message)
    expect(estimatePriorCalls('ddpm999', 2, 1, 0.5)).toBe(999);
  });
});

describe('recommendedUpdate', () => {
  it('matches every preset of the reference', () => {
    for (const t of ['blind', 'reference', 'colorization', 'inpainting', 'old-photo'] as const) {
      const g = presetGuidance(t);
      expect(recommendedUpdate(g.weights)).toBe(g.update);
    }
  });

  it('says which compositions read the mask: the inpainting and old-photo tasks and the properties that use it', () => {
    expect(usesMask(presetGuidance('inpainting'))).toBe(true);
    expect(usesMask(presetGuidance('old-photo'))).toBe(true);
    for (const task of ['blind', 'reference', 'colorization', 'custom'] as const) expect(usesMask(presetGuidance(task))).toBe(false);
    const custom = presetGuidance('custom');
    expect(usesMask({ ...custom, weights: { smooth: 1, unmasked: 0.5 } })).toBe(true);
    expect(usesMask({ ...custom, weights: { restorerLightness: 1 } })).toBe(true);
    expect(usesMask({ ...custom, zeroGradInMask: true })).toBe(true);
    // a weight of 0 is off: the task name alone decides then
    expect(usesMask({ ...custom, weights: { unmasked: 0, restorerLightness: 0 } })).toBe(false);
    expect(usesMask({ ...presetGuidance('inpainting'), weights: { unmasked: 0 }, zeroGradInMask: false })).toBe(true);
  });
});
