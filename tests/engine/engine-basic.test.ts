import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine, type NodeEngine } from '../../cli/node-engine';
import { request, syntheticImage, TINY } from './helpers';

let ne: NodeEngine;
beforeAll(async () => {
  ne = await createNodeEngine({ models: TINY, threads: 1 });
});
afterAll(async () => {
  await ne?.dispose();
});

describe('engine on the tiny model set (onnxruntime-node)', () => {
  it('runs a blind restoration, deterministic per seed, and frees its tensors', async () => {
    const img = syntheticImage(64);
    const events: string[] = [];
    const a = await ne.restore(request('blind', img), (e) => events.push(e.status));
    expect(a.images).toHaveLength(1);
    expect(a.images[0]?.width).toBe(64);
    expect(a.stats.priorCalls).toBe(10);
    expect(events.filter((e) => e === 'step')).toHaveLength(10);
    expect(events.at(-1)).toBe('done');
    expect(ne.service.liveTensors).toBe(0);
    const b = await ne.restore(request('blind', img));
    expect(Buffer.from(b.images[0]!.data).equals(Buffer.from(a.images[0]!.data))).toBe(true);
    const c = await ne.restore(request('blind', img, { sampler: { kind: 'ddpm', steps: 'ddpm10', seed: 8 } }));
    expect(Buffer.from(c.images[0]!.data).equals(Buffer.from(a.images[0]!.data))).toBe(false);
  });

  it('rejects a mask that does not match the photo, with a specific message', async () => {
    const img = syntheticImage(64);
    await expect(ne.restore(request('inpainting', img, { mask: syntheticImage(32) }))).rejects.toThrow(
      /mask is 32x32 but the photo is 64x64/,
    );
  });
});
