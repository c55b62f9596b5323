/**
 * The browser runtime (onnxruntime-web, WASM backend, run here in Node) runs the shipped face
 * models through the same pure-TS pipeline and agrees with onnxruntime-node. (WebGPU needs a
 * GPU browser; not covered here.)
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createOrtRunner, loadRgba } from '../../tools/faces/node-io';
import { detectorPath, meshPath, sharedDir } from '../../tools/faces/test-support';
import type { DetectorRunner, RunnerTensor } from './detector';
import { findFaces } from './index';

ortWeb.env.wasm.numThreads = 1;

async function webRunner(file: string): Promise<{ run: DetectorRunner; release: () => Promise<void> }> {
  const session = await ortWeb.InferenceSession.create(new Uint8Array(fs.readFileSync(file)), { executionProviders: ['wasm'] });
  const run: DetectorRunner = async (input, dims) => {
    const res = await session.run({ [session.inputNames[0]!]: new ortWeb.Tensor('float32', input, dims) });
    const out: Record<string, RunnerTensor> = {};
    for (const [k, t] of Object.entries(res)) out[k] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
    return out;
  };
  return { run, release: () => session.release() };
}

describe('onnxruntime-web (wasm) runs the face models', () => {
  it('findFaces with detector + mesh gives the same faces as onnxruntime-node', async () => {
    const img = await loadRgba(path.join(sharedDir, 'testdata/old_photos/med/026_Bjork_00.png'));
    const web = { detector: await webRunner(detectorPath), mesh: await webRunner(meshPath) };
    const node = { detector: await createOrtRunner(detectorPath), mesh: await createOrtRunner(meshPath) };
    const t0 = performance.now();
    const fw = await findFaces(img, { detector: web.detector.run, mesh: web.mesh.run });
    const webMs = performance.now() - t0;
    const fn = await findFaces(img, { detector: node.detector.run, mesh: node.mesh.run });
    expect(fw.length).toBe(1);
    expect(fn.length).toBe(1);
    let maxDiff = 0;
    fw[0]!.landmarks.forEach((p, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(p[0] - fn[0]!.landmarks[i]![0]), Math.abs(p[1] - fn[0]!.landmarks[i]![1]));
    });
    console.log(
      `onnxruntime-web wasm vs node: max landmark difference ${maxDiff.toExponential(2)} px; web findFaces ${webMs.toFixed(0)} ms (512x512)`,
    );
    expect(maxDiff).toBeLessThan(0.05);
    expect(Math.abs(fw[0]!.score - fn[0]!.score)).toBeLessThan(1e-4);
    for (const r of [web.detector, web.mesh, node.detector, node.mesh]) await r.release();
  });
});
