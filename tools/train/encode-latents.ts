/**
 * Encodes the face chunks written by tools/train/encode_latents.py into TAEF2 latents with onnxruntime-node
 * (3.7x faster than Debian's torch on this CPU). Resumable: chunks that already have latents are skipped, chunks
 * written while it runs are picked up, and each latent file appears whole (written to a temporary name, then renamed).
 *
 *   npx tsx tools/train/encode-latents.ts [--dir .data/lat256] [--encoder FILE] [--threads 1]
 *
 * --encoder is the raw TAEF2 encoder ([0,1] RGB -> raw latents), as `tools/convert/taef2.py --raw-encoder` writes it.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readNpy, writeNpy } from '../convert/npy';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.data/lat256' },
    encoder: { type: 'string', default: '.data/taef2/encoder-raw.onnx' },
    threads: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1' },
  },
});
const dir = values.dir;
const session = await ort.InferenceSession.create(values.encoder, {
  intraOpNumThreads: Number(values.threads),
  graphOptimizationLevel: 'all',
});
const batch = Number(values.batch);
// val first, then the restorer's degraded copies (degrade_chunks.py: deg, degm), then train, then mirrored copies:
// what the trainers need first is ready first
const order = ['val', 'valdeg', 'deg', 'degm', 'train', 'trainflip'];
const rank = (f: string) => order.indexOf(/^img_([a-z]+)_/.exec(f)![1]!);
// the next chunk without latents, listed afresh each time: chunks written while this runs (degrade_chunks.py) join
// in their place in the order
const nextChunk = () =>
  readdirSync(dir)
    .filter((f) => /^img_(val|valdeg|train|deg|degm|trainflip)_\d{3}\.npy$/.test(f) && !existsSync(join(dir, f.slice(4))))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
let faces = 0;
const t0 = performance.now();
for (let f = nextChunk(); f; f = nextChunk()) {
  const out = join(dir, f.slice(4));
  const ts = performance.now();
  const img = readNpy(join(dir, f));
  const [n, c, h, w] = img.shape as [number, number, number, number];
  const per = c * h * w;
  const u8 = img.data as Uint8Array;
  let lat: Float32Array | null = null;
  let latShape: number[] = [];
  for (let b = 0; b < n; b += batch) {
    const m = Math.min(batch, n - b);
    const x = new Float32Array(m * per);
    for (let i = 0; i < m * per; i++) x[i] = u8[b * per + i]! / 255;
    const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [m, c, h, w]) });
    const z = res[session.outputNames[0]!]!;
    const [, zc, zh, zw] = z.dims as [number, number, number, number];
    if (!lat) {
      lat = new Float32Array(n * zc * zh * zw);
      latShape = [n, zc, zh, zw];
    }
    lat.set(z.data as Float32Array, b * zc * zh * zw);
  }
  writeNpy(`${out}.tmp.npy`, { dtype: 'float32', shape: latShape, data: lat! });
  renameSync(`${out}.tmp.npy`, out);
  faces += n;
  const dt = (performance.now() - ts) / 1000;
  console.log(`${f.slice(4)}: ${n} faces in ${dt.toFixed(0)} s (${(dt / n).toFixed(3)} s/face)`);
}
console.log(`done: ${faces} faces in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
