/**
 * Run an ONNX model with onnxruntime-node (CPU) on .npy inputs and write .npy outputs.
 * Used by the Python converter to check its exports (there is no onnxruntime for Python here).
 *
 *   npx tsx tools/convert/ort-run.ts job.json
 *   job.json: { "model": "m.onnx", "inputs": { "x": "x.npy", ... }, "outputs": { "out": "out.npy" },
 *               "threads": 1 }
 * Prints one JSON line: { "ok": true, "ms": <run time>, "outputs": { name: shape } }.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy, type NpyArray } from './npy';

interface Job {
  model: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  threads?: number;
}

async function main(): Promise<void> {
  const jobPath = process.argv[2];
  if (!jobPath) throw new Error('usage: ort-run.ts job.json');
  const job = JSON.parse(readFileSync(jobPath, 'utf8')) as Job;
  const session = await ort.InferenceSession.create(job.model, {
    intraOpNumThreads: job.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, path] of Object.entries(job.inputs)) {
    const a = readNpy(path);
    feeds[name] = new ort.Tensor(a.dtype, a.data, a.shape);
  }
  const t0 = performance.now();
  const res = await session.run(feeds);
  const ms = performance.now() - t0;
  const shapes: Record<string, readonly number[]> = {};
  for (const [name, path] of Object.entries(job.outputs)) {
    const t = res[name];
    if (!t) throw new Error(`output ${name} missing; have ${Object.keys(res).join(',')}`);
    if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
    const arr: NpyArray = { dtype: 'float32', shape: [...t.dims], data: t.data as Float32Array };
    writeNpy(path, arr);
    shapes[name] = t.dims;
  }
  await session.release();
  console.log(JSON.stringify({ ok: true, ms, outputs: shapes }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
