import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine, type NodeEngine } from '../../cli/node-engine';
import type { RgbaImage } from '../../workers/api';
import { REPO, request, squareMask, syntheticImage } from './helpers';

const TINY_LATENT = path.join(REPO, 'tests/fixtures/models/tiny-latent/manifest.json');

let ne: NodeEngine;
beforeAll(async () => {
  ne = await createNodeEngine({ models: TINY_LATENT, threads: 1 });
});
afterAll(async () => {
  await ne?.dispose();
});

describe('engine on the tiny latent set (onnxruntime-node)', () => {
  it('reports the latent grid and runs a full-resolution blind restoration without reading back between steps', async () => {
    expect(ne.info.latent).toEqual({ channels: 4, size: 16 });
    const res = await ne.restore(request('blind', syntheticImage(64)));
    expect(res.images[0]!.width).toBe(64);
    expect(res.images[0]!.height).toBe(64);
    expect(res.stats.priorCalls).toBe(10);
    expect(res.stats.readbackBytesBetweenSteps).toBe(0);
    expect(res.stats.phaseMs['decoder-vjp']).toBeGreaterThan(0);
    expect(ne.service.liveTensors).toBe(0);
  });

  it('inpainting keeps the photo outside the mask byte for byte (switchable) and changes the hole', async () => {
    const img = syntheticImage(64);
    const mask = squareMask(64, 16, 48);
    const kept = (await ne.restore(request('inpainting', img, { mask }))).images[0]!;
    const raw = (await ne.restore(request('inpainting', img, { mask, keepUnmasked: false }))).images[0]!;
    let outsideSame = 0;
    let outside = 0;
    let rawOutsideSame = 0;
    let holeChanged = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const missing = (mask.data[i * 4] as number) > 0;
      const same = (a: RgbaImage) => [0, 1, 2].every((c) => a.data[i * 4 + c] === img.data[i * 4 + c]);
      if (!missing) {
        outside++;
        if (same(kept)) outsideSame++;
        if (same(raw)) rawOutsideSame++;
      } else if (!same(kept)) holeChanged++;
    }
    expect(outsideSame).toBe(outside);
    expect(rawOutsideSame).toBeLessThan(outside / 2); // the decoder never returns the exact bytes by itself
    expect(holeChanged).toBeGreaterThan(32 * 32 * 0.9);
  });

  it('previews: the decoded x0_hat when guided, the linear latent map when not', async () => {
    const sizes: number[] = [];
    const img = syntheticImage(64);
    const onProgress = (e: { status: string; preview?: RgbaImage }) => {
      if (e.status === 'step' && e.preview) sizes.push(e.preview.width);
    };
    const guided = await ne.restore(request('blind', img, { previewEvery: 5, previewSize: 16 }), { onProgress });
    expect(sizes).toEqual([16, 16]);
    expect(guided.stats.largestReadbackBetweenSteps).toBe(3 * 16 * 16);
    sizes.length = 0;
    const unguided = request('custom', img, { previewEvery: 5, previewSize: 16 });
    unguided.guidance.weights = {};
    const res = await ne.restore(unguided, { onProgress });
    expect(sizes).toEqual([16, 16]);
    expect(res.stats.phaseMs.decoder ?? 0).toBe(0); // no decode before the end
  });

  it('refuses a crop whose sides are not multiples of the latent grid', async () => {
    await expect(ne.restore(request('blind', syntheticImage(56)))).rejects.toThrow(/multiples of 16/);
  });
});
