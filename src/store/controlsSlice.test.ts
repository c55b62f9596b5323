import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { COLOR_STYLES, presetGuidance, styleFromImages } from '../../workers/shared/presets';
import type { AppState } from './index';
import { createAppState } from './index';
import { selectRequestSettings } from './controlsSlice';
import { selectReferenceImages } from './referencesSlice';
import { selectModelDownloadFraction } from './modelsSlice';

const fresh = () => create<AppState>()(createAppState);

function solid(v: number) {
  const data = new Uint8ClampedArray(4 * 4 * 4).fill(v);
  return { width: 4, height: 4, data };
}

describe('controls slice', () => {
  it('starts at the blind-restoration preset and switches tasks to their presets', () => {
    const s = fresh();
    expect(s.getState().guidance).toEqual(presetGuidance('blind'));
    s.getState().setTask('old-photo');
    expect(s.getState().guidance.weights).toEqual({ restorerLightness: 1, color: 0.5 });
    expect(s.getState().guidance.scale).toBe(0.005);
    expect(s.getState().guidance.zeroGradInMask).toBe(true);
    s.getState().setTask('inpainting');
    expect(s.getState().guidance).toEqual(presetGuidance('inpainting'));
  });

  it("starts tasks from the loaded set's defaults; 'paper values' goes back to the paper's", () => {
    const s = fresh();
    const info = {
      name: 'latent',
      version: '1',
      resolution: 256,
      roles: ['prior'],
      licence: 'x',
      totalBytes: 1,
      backend: 'wasm' as const,
      template: [] as [number, number][],
      defaults: {
        inpainting: { scale: 0.3, steps: 50, sampler: 'ddim' as const, gradSteps: 2, advised: [0.1, 0.6] as [number, number], start: 0.6 },
      },
    };
    s.getState().setTask('inpainting');
    s.getState().modelLoaded(info);
    expect(s.getState().guidance.scale).toBe(0.3);
    expect(s.getState().guidance.gradSteps).toBe(2);
    expect(s.getState().sampler.steps).toBe(50);
    expect(s.getState().sampler.kind).toBe('ddim');
    expect(s.getState().sampler.start).toBe(0.6);
    s.getState().setScale(0.5);
    s.getState().resetGuidance();
    expect(s.getState().guidance.scale).toBe(0.3);
    s.getState().setPaperValues(true);
    expect(s.getState().guidance.scale).toBe(0.01);
    // the paper starts from pure noise
    expect(s.getState().sampler.start).toBe(1);
    s.getState().setTask('blind'); // no defaults for blind in this set: the paper's preset
    expect(s.getState().guidance).toEqual(presetGuidance('blind'));
    s.getState().setPaperValues(false);
    s.getState().setTask('inpainting');
    expect(s.getState().guidance.scale).toBe(0.3);
  });

  it('tuning a weight keeps the task, toggling a property makes it custom; reset restores', () => {
    const s = fresh();
    s.getState().setTask('colorization');
    s.getState().setWeight('color', 0.2);
    expect(s.getState().guidance.task).toBe('colorization');
    expect(s.getState().guidance.weights.color).toBe(0.2);
    s.getState().setWeight('identity', 25);
    expect(s.getState().guidance.task).toBe('custom');
    expect(s.getState().guidance.identityLoss).toBe('mse');
    s.getState().setWeight('lightness', undefined);
    expect(s.getState().guidance.weights).toEqual({ color: 0.2, identity: 25 });
    s.getState().setTask('colorization');
    s.getState().setScale(0.5);
    s.getState().resetGuidance();
    expect(s.getState().guidance).toEqual(presetGuidance('colorization'));
  });

  it('custom keeps the current composition', () => {
    const s = fresh();
    s.getState().setTask('reference');
    s.getState().setTask('custom');
    expect(s.getState().guidance.weights).toEqual({ smooth: 1, identity: 25 });
    expect(s.getState().guidance.task).toBe('custom');
  });

  it('clamps sampler fields and variants; the dice changes the seed', () => {
    const s = fresh();
    s.getState().setSampler({ steps: 5000, eta: 3, seed: -4 });
    expect(s.getState().sampler).toMatchObject({ steps: 1000, eta: 1, seed: 0 });
    s.getState().setVariants(99);
    expect(s.getState().variants).toBe(8);
    s.getState().setVariants(0);
    expect(s.getState().variants).toBe(1);
    const seeds = new Set<number>();
    for (let i = 0; i < 5; i++) {
      s.getState().rollSeed();
      seeds.add(s.getState().sampler.seed);
    }
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('selectRequestSettings picks the chosen colour style and is memoised', () => {
    const s = fresh();
    s.getState().setTask('colorization');
    s.getState().setStyleChoice(2);
    const a = selectRequestSettings(s.getState());
    expect(a.guidance.style).toEqual(COLOR_STYLES[2]);
    expect(selectRequestSettings(s.getState())).toBe(a);
    // references style: falls back to style 0 without references, then uses them
    s.getState().setStyleChoice('references');
    expect(selectRequestSettings(s.getState()).guidance.style).toEqual(COLOR_STYLES[0]);
    s.getState().addReferences([{ id: 'r1', name: 'a', crop: solid(200) }]);
    const style = selectRequestSettings(s.getState()).guidance.style;
    expect(style).toEqual(styleFromImages([solid(200)]));
    expect(style?.mean[0]).toBeCloseTo(200 / 127.5 - 1, 6);
  });
});

describe('references and models slices', () => {
  it('adds and removes references, keeping images and style in step', () => {
    const s = fresh();
    s.getState().addReferences([
      { id: 'a', name: 'a.png', crop: solid(10) },
      { id: 'b', name: 'b.png', crop: solid(250) },
    ]);
    const imgs = selectReferenceImages(s.getState());
    expect(imgs).toHaveLength(2);
    expect(selectReferenceImages(s.getState())).toBe(imgs);
    s.getState().removeReference('a');
    expect(selectReferenceImages(s.getState()).map((i) => i.data[0])).toEqual([250]);
    expect(s.getState().referenceStyle?.mean[0]).toBeCloseTo(250 / 127.5 - 1, 6);
    s.getState().clearReferences();
    expect(s.getState().referenceStyle).toBeUndefined();
  });

  it('tracks model loading, progress and test-only sets', () => {
    const s = fresh();
    s.getState().modelLoadStarted({ kind: 'url', manifestUrl: 'https://example.org/set/manifest.json' });
    expect(s.getState().modelStatus).toBe('loading');
    expect(selectModelDownloadFraction(s.getState())).toBeUndefined();
    s.getState().modelDownloadProgress({ file: 'prior.onnx', loaded: 50, total: 100 });
    s.getState().modelDownloadProgress({ file: 'restorer.onnx', loaded: 0, total: 300 });
    expect(selectModelDownloadFraction(s.getState())).toBeCloseTo(50 / 400, 9);
    const info = {
      name: 'tiny-test',
      version: '1',
      resolution: 64,
      roles: ['prior'],
      licence: 'MIT',
      totalBytes: 400,
      backend: 'wasm' as const,
      template: [],
    };
    s.getState().modelLoaded({ ...info, testOnly: true });
    expect(s.getState().modelStatus).toBe('ready');
    expect(s.getState().modelIsTestOnly).toBe(true);
    // the flag comes from the manifest (through the loader), never from the set's name
    s.getState().modelLoaded(info);
    expect(s.getState().modelIsTestOnly).toBe(false);
    s.getState().modelLoaded({ ...info, name: 'pgdiff-ffhq-512', testOnly: true });
    expect(s.getState().modelIsTestOnly).toBe(true);
  });
});
