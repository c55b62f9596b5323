import { describe, expect, it } from 'vitest';
import type { GuidanceSettings, RgbaImage } from '../../../workers/api';
import { presetGuidance, defaultSampler } from '../../../workers/shared/presets';
import type { FaceCrop } from '../../store/facesSlice';
import { buildFaceRequests, keepsLightness, keepsUnmasked, type RequestInputs } from './run-requests';

const img = (w: number, h = w, v = 0): RgbaImage => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4).fill(v) });
const crop = (key: string, size = 64): FaceCrop => ({
  key,
  faceIndex: 0,
  aligned: { crop: img(size), transform: [1, 0, 0, 0, 1, 0], inverse: [1, 0, 0, 0, 1, 0] } as unknown as FaceCrop['aligned'],
});

function inputs(over: Partial<RequestInputs> = {}): RequestInputs {
  return {
    crops: [crop('a'), crop('b')],
    activeCropKey: 'a',
    maskCropKey: undefined,
    mask: undefined,
    references: [],
    keepUnmasked: undefined,
    settings: { guidance: presetGuidance('inpainting'), sampler: defaultSampler(), variants: 1 },
    ...over,
  };
}

describe('buildFaceRequests (the requests a run sends)', () => {
  it('sends the painted mask with the crop it was painted on, with its pixels, and the switch', () => {
    const mask = img(64, 64, 255);
    const r = buildFaceRequests(inputs({ mask, maskCropKey: 'b', keepUnmasked: false }), 100);
    if ('error' in r) throw new Error(r.error.message);
    expect(r.requests.map((q) => q.crop.key)).toEqual(['a', 'b']);
    expect(r.requests[0]!.request.mask).toBeUndefined();
    expect(r.requests[1]!.request.mask).toBe(mask);
    expect(r.requests[1]!.request.mask!.data[0]).toBe(255);
    expect(r.requests[1]!.request.keepUnmasked).toBe(false);
    expect(r.requests[1]!.request.image).toBe(r.requests[1]!.crop.aligned.crop);
  });

  it('a mask that does not match its crop is an error naming both sizes, never dropped', () => {
    const r = buildFaceRequests(inputs({ mask: img(32) }), 100);
    expect('error' in r && r.error.message).toMatch(/mask is 32×32 but the face crop is 64×64/);
  });

  it('passes the references to every face and previews about 30 times a run', () => {
    const refs = [img(64, 64, 9)];
    const r = buildFaceRequests(
      inputs({ references: refs, settings: { guidance: presetGuidance('reference'), sampler: defaultSampler(), variants: 2 } }),
      90,
    );
    if ('error' in r) throw new Error(r.error.message);
    for (const q of r.requests) {
      expect(q.request.references).toBe(refs);
      expect(q.request.variants).toBe(2);
      expect(q.request.previewEvery).toBe(3);
    }
  });

  it('does not send a mask to a task that never reads it', () => {
    const r = buildFaceRequests(
      inputs({ mask: img(64), settings: { guidance: presetGuidance('blind'), sampler: defaultSampler(), variants: 1 } }),
      100,
    );
    if ('error' in r) throw new Error(r.error.message);
    expect(r.requests[0]!.request.mask).toBeUndefined();
  });

  it("records whether the engine keeps the photo outside the mask: the switch, else the unmasked property's weight", () => {
    const mask = img(64, 64, 255);
    const at = (over: Partial<RequestInputs>) => {
      const r = buildFaceRequests(inputs({ mask, maskCropKey: 'a', ...over }), 100);
      if ('error' in r) throw new Error(r.error.message);
      return r.requests.map((q) => keepsUnmasked(q.request));
    };
    // inpainting uses the unmasked-region property: on by default, on the masked face only
    expect(at({})).toEqual([true, false]);
    expect(at({ keepUnmasked: false })).toEqual([false, false]);
    // with the property off: only when the person turns the switch on
    const off = { ...presetGuidance('inpainting'), weights: { unmasked: 0 } };
    expect(at({ settings: { guidance: off, sampler: defaultSampler(), variants: 1 } })).toEqual([false, false]);
    expect(at({ keepUnmasked: true, settings: { guidance: off, sampler: defaultSampler(), variants: 1 } })).toEqual([true, false]);
    // no mask, nothing to keep outside
    expect(at({ mask: undefined, keepUnmasked: true })).toEqual([false, false]);
  });

  it('records whether the engine keeps the lightness: the request, else the lightness property (colorization)', () => {
    const at = (guidance: GuidanceSettings, keepLightness?: boolean) => {
      const r = buildFaceRequests(inputs({ settings: { guidance, sampler: defaultSampler(), variants: 1 } }), 100);
      if ('error' in r) throw new Error(r.error.message);
      return r.requests.map((q) => keepsLightness(keepLightness === undefined ? q.request : { ...q.request, keepLightness }));
    };
    expect(at(presetGuidance('colorization'))).toEqual([true, true]);
    expect(at(presetGuidance('colorization'), false)).toEqual([false, false]);
    expect(at(presetGuidance('blind'))).toEqual([false, false]);
    expect(at(presetGuidance('blind'), true)).toEqual([true, true]);
    expect(at({ ...presetGuidance('colorization'), weights: { color: 0.05 } })).toEqual([false, false]);
  });
});
