/**
 * Training triples for the restorer's pixel refinement (tools/train/restorer_fusion.py): for faces of the degraded
 * chunks (degrade_chunks.py's img_deg_NNN / img_degm_NNN), the latent restorer's output r (its exported chain, run
 * here with onnxruntime-node), beside the degraded input y and the clean face x.
 *
 *   npx tsx tools/train/restorer-pairs.ts --restorer .data/ship/restorer.onnx [--per-chunk 128] [--out .data/fusion]
 *
 * Writes {y,r,x}.npy (N,3,R,R) uint8 and, from the held-out chunk (img_valdeg_000 / img_val_000), val_{y,r,x}.npy.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy } from '../convert/npy';

const { values } = parseArgs({
  options: {
    restorer: { type: 'string' },
    dir: { type: 'string', default: '.data/lat256' },
    out: { type: 'string', default: '.data/fusion' },
    'per-chunk': { type: 'string', default: '128' },
    val: { type: 'string', default: '48' },
    threads: { type: 'string', default: '2' },
  },
});
if (!values.restorer) throw new Error('--restorer FILE.onnx is required');
const session = await ort.InferenceSession.create(values.restorer, { intraOpNumThreads: Number(values.threads) });
mkdirSync(values.out, { recursive: true });

/** Runs the restorer on faces [0, n) of a degraded chunk; returns y, r, x as uint8 (n,3,R,R). */
async function triples(degFile: string, cleanFile: string, n: number) {
  const deg = readNpy(degFile);
  const clean = readNpy(cleanFile);
  const [, c, h, w] = deg.shape as [number, number, number, number];
  const per = c * h * w;
  const y = (deg.data as Uint8Array).slice(0, n * per);
  const x = (clean.data as Uint8Array).slice(0, n * per);
  const r = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) {
    const input = Float32Array.from(y.subarray(i * per, (i + 1) * per), (v) => v / 127.5 - 1);
    const res = await session.run({ y: new ort.Tensor('float32', input, [1, c, h, w]) });
    const out = res[session.outputNames[0]!]!.data as Float32Array;
    for (let k = 0; k < per; k++) r[i * per + k] = Math.max(0, Math.min(255, Math.round((out[k]! + 1) * 127.5)));
  }
  return { y, r, x, shape: [n, c, h, w] };
}

const save = (prefix: string, t: Awaited<ReturnType<typeof triples>>) => {
  for (const k of ['y', 'r', 'x'] as const)
    writeNpy(join(values.out!, `${prefix}${k}.npy`), { dtype: 'uint8', shape: t.shape, data: t[k] });
};

const t0 = performance.now();
save('val_', await triples(join(values.dir, 'img_valdeg_000.npy'), join(values.dir, 'img_val_000.npy'), Number(values.val)));
const per = Number(values['per-chunk']);
const chunks = readdirSync(values.dir)
  .filter((f) => /^img_(deg|degm)_\d{3}\.npy$/.test(f) && existsSync(join(values.dir, `img_train_${f.slice(-7)}`)))
  .sort();
const parts: Awaited<ReturnType<typeof triples>>[] = [];
for (const f of chunks) {
  parts.push(await triples(join(values.dir, f), join(values.dir, `img_train_${f.slice(-7)}`), per));
  console.log(`${f}: ${per} faces, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const n = parts.reduce((s, p) => s + p.shape[0]!, 0);
const [, c, h, w] = parts[0]!.shape as [number, number, number, number];
const all = { y: new Uint8Array(n * c * h * w), r: new Uint8Array(n * c * h * w), x: new Uint8Array(n * c * h * w), shape: [n, c, h, w] };
let off = 0;
for (const p of parts) {
  for (const k of ['y', 'r', 'x'] as const) all[k].set(p[k], off);
  off += p.y.length;
}
save('', all);
console.log(`${n} training triples from ${chunks.length} chunks in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
