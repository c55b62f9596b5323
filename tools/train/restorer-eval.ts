/**
 * Scores exported restorers (the whole chain, y -> out, as the engine runs it) on held-out faces, against the input
 * itself and a 3x3 box blur: mean PSNR to the clean face over the first N faces of each degraded chunk.
 *
 *   /usr/bin/python3 tools/train/restorer_recipes.py                 # img_valblind_000, img_valold_000
 *   npx tsx tools/train/restorer-eval.ts A.onnx [B.onnx ...] [--n 24] [--dir .data/lat256]
 *
 * Recipes: valdeg (degrade_chunks.py: the training recipe), valblind and valold (the quality runs' fixed recipes).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../convert/npy';
import { boxBlur3 } from '../quality/metrics/box-blur';
import { psnr as psnrOf } from '../quality/metrics/psnr';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { n: { type: 'string', default: '24' }, dir: { type: 'string', default: '.data/lat256' } },
});
const N = Number(values.n);
const sessions = await Promise.all(positionals.map((m) => ort.InferenceSession.create(m, { intraOpNumThreads: 2 })));
const clean = readNpy(join(values.dir, 'img_val_000.npy'));
const [, C, R] = clean.shape as [number, number, number, number];
const P = C * R * R;
/** PSNR of [-1, 1] data (planar order does not matter for the mean over all values) */
const psnr = (a: Float32Array, b: Float32Array) => psnrOf(a, b, a.length / 3, { peak: 2 });
const face = (u: Uint8Array, k: number) => Float32Array.from(u.subarray(k * P, (k + 1) * P), (v) => v / 127.5 - 1);

console.log(`| recipe (${N} held-out faces) | input | 3x3 box blur | ${positionals.join(' | ')} |`);
console.log(`|---|---|---|${positionals.map(() => '---|').join('')}`);
for (const recipe of ['valdeg', 'valblind', 'valold']) {
  const file = join(values.dir, `img_${recipe}_000.npy`);
  if (!existsSync(file)) continue;
  const deg = readNpy(file);
  const sums = { input: 0, box: 0, r: sessions.map(() => 0) };
  for (let k = 0; k < N; k++) {
    const y = face(deg.data as Uint8Array, k);
    const x = face(clean.data as Uint8Array, k);
    sums.input += psnr(y, x);
    sums.box += psnr(boxBlur3(y, C, R, R), x);
    for (const [j, s] of sessions.entries()) {
      const out = await s.run({ y: new ort.Tensor('float32', y, [1, C, R, R]) });
      sums.r[j]! += psnr(out[s.outputNames[0]!]!.data as Float32Array, x);
    }
  }
  const f = (v: number) => (v / N).toFixed(2);
  console.log(`| ${recipe} | ${f(sums.input)} | ${f(sums.box)} | ${sums.r.map(f).join(' | ')} |`);
}
