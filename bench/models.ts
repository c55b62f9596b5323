/**
 * npm run bench:models: per-call times of the helper networks on onnxruntime-node (CPU, 1 thread): the identity
 * embeddings and their VJP graphs at 112x112, and face detection on a 1200x900 photo (whole photo, zoomed out,
 * tiles) with the mesh refinement. Writes bench/results/models.json. (These timings used to sit in unit tests.)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createOrtRunner, loadRgba } from '../tools/faces/node-io';
import { detectorPath, gradient, meshPath, sharedDir } from '../tools/faces/test-support';
import { IDENTITY_MODELS } from '../tools/identity/identity-config';
import { detectFaces, detectionRegions, letterbox } from '../workers/faces/detector';
import { refineLandmarks } from '../workers/faces/landmarks';
import { REPO_ROOT } from '../cli/node-engine';

async function time(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { date: new Date().toISOString() };
  const S = 112;
  const x = new ort.Tensor(
    'float32',
    new Float32Array(3 * S * S).map((_, i) => Math.sin(i * 0.01) * 0.5),
    [1, 3, S, S],
  );
  const identity: Record<string, { embeddingMs: number; vjpMs: number }> = {};
  for (const m of IDENTITY_MODELS) {
    const dir = path.join(REPO_ROOT, 'public/models/common/identity');
    const fwd = await ort.InferenceSession.create(path.join(dir, `${m.id}.onnx`), { intraOpNumThreads: 1 });
    const vjp = await ort.InferenceSession.create(path.join(dir, `${m.id}-vjp.onnx`), { intraOpNumThreads: 1 });
    const c = new ort.Tensor('float32', new Float32Array(m.dim).fill(0.1), [1, m.dim]);
    identity[m.id] = {
      embeddingMs: await time(5, () => fwd.run({ input: x })),
      vjpMs: await time(5, () => vjp.run({ input: x, cotangent: c })),
    };
    await fwd.release();
    await vjp.release();
  }
  out.identity = identity;
  const d = await createOrtRunner(detectorPath);
  const m = await createOrtRunner(meshPath);
  const face = await loadRgba(path.join(sharedDir, 'testdata/ref_faces/00010.png'));
  const photo = gradient(1200, 900);
  for (let y = 0; y < face.height; y++)
    for (let xx = 0; xx < face.width; xx++) {
      const s = (y * face.width + xx) * 4;
      photo.data.set(face.data.subarray(s, s + 4), ((y + 200) * 1200 + xx + 300) * 4);
    }
  const { tensor } = letterbox(photo, 256);
  const face0 = (await detectFaces(photo, d.run))[0];
  out.faces = {
    inference256Ms: await time(10, () => d.run(tensor, [1, 256, 256, 3])),
    letterboxMs: await time(10, () => letterbox(photo, 256)),
    detectFaces1200x900Ms: await time(3, () => detectFaces(photo, d.run)),
    detectorRuns: detectionRegions(1200, 900, 256, 'auto').length,
    meshPerFaceMs: face0 ? await time(3, () => refineLandmarks(photo, face0, m.run)) : null,
  };
  await d.release();
  await m.release();
  await mkdir(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(REPO_ROOT, 'bench/results/models.json'), JSON.stringify(out, null, 1));
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
