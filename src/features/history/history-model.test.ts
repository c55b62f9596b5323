import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../workers/api';
import { defaultSampler, presetGuidance } from '../../../workers/shared/presets';
import type { RunRecord } from './history-model';
import { describeSettings, entryFromStored, fromStored, idsToPrune, toStored, validateStored } from './history-model';

function img(w: number, h: number, v: number): RgbaImage {
  return { width: w, height: h, data: new Uint8ClampedArray(w * h * 4).fill(v) };
}

// a lossless fake "PNG": the blob carries the size and the bytes
const encode = async (i: RgbaImage): Promise<Blob> =>
  new Blob([new Uint32Array([i.width, i.height]), i.data.slice()], { type: 'image/x-test' });
const decode = async (b: Blob): Promise<RgbaImage> => {
  const buf = new Uint8Array(await b.arrayBuffer());
  const [w, h] = new Uint32Array(buf.slice(0, 8).buffer);
  return { width: w ?? 0, height: h ?? 0, data: new Uint8ClampedArray(buf.slice(8)) };
};

function record(): RunRecord {
  return {
    id: 'run-1',
    createdAt: 1_700_000_000_000,
    photoId: 'p1',
    photoName: 'grandma.jpg',
    scale: 0.5,
    settings: { guidance: presetGuidance('inpainting'), sampler: { ...defaultSampler(), steps: 4, seed: 42 }, variants: 2 },
    faces: [
      {
        cropKey: 'p1:0:64',
        faceIndex: 0,
        input: img(4, 4, 10),
        outputs: [img(4, 4, 20), img(4, 4, 30)],
        inverse: [1, 0, 5, 0, 1, 6],
        mask: img(4, 4, 255),
      },
    ],
    references: [img(2, 2, 99)],
    modelName: 'tiny-test',
    backend: 'wasm',
    totalMs: 1234,
    steps: 4,
  };
}

describe('history serialisation', () => {
  it('round-trips a run through the stored form', async () => {
    const r = record();
    const stored = await toStored(r, new Blob(['photo']), encode, new Blob(['thumb']));
    expect(stored.version).toBe(1);
    expect(stored.photo?.size).toBe(5);
    // survives structured cloning like IndexedDB does
    const cloned = structuredClone(stored);
    expect(validateStored(cloned)).toBeDefined();
    const back = await fromStored(cloned, decode);
    expect(back.settings).toEqual(r.settings);
    expect(back.faces[0]?.outputs.map((o) => o.data[0])).toEqual([20, 30]);
    expect(back.faces[0]?.mask?.data[0]).toBe(255);
    // a run made without "keep unmasked" says so after the round trip too
    expect(back.faces[0]?.keptUnmasked).toBeUndefined();
    expect(back.faces[0]?.inverse).toEqual([1, 0, 5, 0, 1, 6]);
    expect(back.references[0]?.width).toBe(2);
    expect(back.scale).toBe(0.5);
    const entry = entryFromStored(stored);
    expect(entry).toMatchObject({ id: 'run-1', task: 'inpainting', faceCount: 1, variantCount: 2, steps: 4 });
  });

  it('keeps whether the run kept the photo outside the mask (the downloads read it)', async () => {
    const r = record();
    r.faces[0]!.keptUnmasked = true;
    const back = await fromStored(structuredClone(await toStored(r, undefined, encode, new Blob(['t']))), decode);
    expect(back.faces[0]?.keptUnmasked).toBe(true);
    // without a mask there is nothing it could have kept outside
    delete r.faces[0]!.mask;
    const noMask = await fromStored(await toStored(r, undefined, encode, new Blob(['t'])), decode);
    expect(noMask.faces[0]?.keptUnmasked).toBeUndefined();
  });

  it('keeps whether the run kept the lightness of the photo (the downloads read it), with a mask or without', async () => {
    const r = record();
    const round = async () => fromStored(structuredClone(await toStored(r, undefined, encode, new Blob(['t']))), decode);
    expect((await round()).faces[0]?.keptLightness).toBeUndefined();
    r.faces[0]!.keptLightness = true;
    expect((await round()).faces[0]?.keptLightness).toBe(true);
    delete r.faces[0]!.mask;
    expect((await round()).faces[0]?.keptLightness).toBe(true);
  });

  it('settings are copied, not shared with the live controls', async () => {
    const r = record();
    const stored = await toStored(r, undefined, encode, new Blob(['t']));
    r.settings.sampler.seed = 7;
    expect(stored.settings.sampler.seed).toBe(42);
    expect(stored.photo).toBeUndefined();
  });

  it('rejects damaged or foreign records', async () => {
    const good = await toStored(record(), undefined, encode, new Blob(['t']));
    expect(validateStored(null)).toBeUndefined();
    expect(validateStored({ ...good, version: 2 })).toBeUndefined();
    expect(validateStored({ ...good, faces: [] })).toBeUndefined();
    expect(
      validateStored({ ...good, settings: { ...good.settings, guidance: { ...good.settings.guidance, task: 'nope' } } }),
    ).toBeUndefined();
    expect(validateStored({ ...good, faces: [{ ...good.faces[0], inverse: [1, 2, 3] }] })).toBeUndefined();
    expect(validateStored({ ...good, scale: 0 })).toBeUndefined();
  });

  it('describes settings and prunes the oldest runs beyond the limit', () => {
    expect(describeSettings(record().settings)).toBe('Inpainting · 4 steps · seed 42 · 2 variants');
    const entries = [1, 5, 3, 4, 2].map((t) => ({ id: `r${t}`, createdAt: t }));
    expect(idsToPrune(entries, 3).sort()).toEqual(['r1', 'r2']);
    expect(idsToPrune(entries, 10)).toEqual([]);
  });
});
