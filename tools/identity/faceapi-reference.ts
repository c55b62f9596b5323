/**
 * Reference embeddings from face-api ITSELF (@vladmandic/face-api's FaceRecognitionNet on the pure-JS
 * TF.js CPU backend), written as a fixture so CI can check faceapi-resnet.onnx without TF.js.
 *
 * Needs, in the ignored cache (tools/identity/convert.sh prepares them):
 *   tools/identity/.cache/package/   the unpacked @vladmandic/face-api tarball
 *   tools/identity/.cache/tfjs/      npm install --prefix ... @tensorflow/tfjs @tensorflow/tfjs-backend-wasm
 * Run: npx tsx tools/identity/faceapi-reference.ts [out.json]
 *
 * Each face is handed to face-api as a 112x112 HWC tensor of 0..255 values, so face-api's own
 * toBatchTensor() resizes it to 150 (tf.image.resizeBilinear): the same job the ONNX graph does
 * inside. It also prints the identity table with face-api fed 150 px crops resized from the
 * source images directly, to measure what the 112 px detour costs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { checksum, cosine, fixtureDir, loadFace, repoRoot, sharedDir, type Crop } from '../../tests/identity/face-input';
import { PAIR_IDS, referenceImages } from './identity-config';

// Only the few face-api / TF.js calls used here; neither is a project dependency.
interface TfTensor {
  dispose(): void;
}
interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  version: { tfjs: string };
  tensor3d(values: Float32Array, shape: [number, number, number]): TfTensor;
  io: { decodeWeights(buffer: ArrayBuffer, specs: unknown[]): Record<string, TfTensor> };
}
interface FaceApi {
  tf: TfLike;
  version: string;
  FaceRecognitionNet: new () => {
    loadFromWeightMap(map: Record<string, TfTensor>): void;
    computeFaceDescriptor(x: TfTensor): Promise<Float32Array | Float32Array[]>;
  };
}

const cache = path.join(repoRoot, 'tools', 'identity', '.cache');

/** face-api's no-bundle ESM build imports TF.js by deep ESM paths Node cannot resolve: point them at the packages. */
function faceApiModule(): string {
  const src = fs.readFileSync(path.join(cache, 'package', 'dist', 'face-api.esm-nobundle.js'), 'utf8');
  const out = src
    .replace('"@tensorflow/tfjs/dist/index.js"', '"@tensorflow/tfjs"')
    .replace('"@tensorflow/tfjs-backend-wasm/dist/index.js"', '"@tensorflow/tfjs-backend-wasm"')
    .replace('"@tensorflow/tfjs-backend-webgl/dist/index.js"', '"@tensorflow/tfjs-backend-webgl"');
  const file = path.join(cache, 'tfjs', 'face-api.mjs');
  fs.writeFileSync(file, out);
  return file;
}

/** CHW [-1,1] -> HWC 0..255 (what face-api is normally given: pixels) */
function toPixels(chw: Float32Array, size: number): Float32Array {
  const s = size * size;
  const hwc = new Float32Array(3 * s);
  for (let i = 0; i < s; i++) for (let c = 0; c < 3; c++) hwc[i * 3 + c] = (chw[c * s + i]! + 1) * 127.5;
  return hwc;
}

async function pngFace(name: string): Promise<Float32Array> {
  const { data, info } = await sharp(path.join(fixtureDir, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const s = info.width * info.height;
  const x = new Float32Array(3 * s);
  for (let i = 0; i < s; i++) for (let c = 0; c < 3; c++) x[c * s + i] = (data[i * 3 + c]! / 255) * 2 - 1;
  return x;
}

function stats(t: number[][]): string {
  const n = t.length;
  let same = 0;
  let diff = 0;
  let top1 = 0;
  t.forEach((row, i) => {
    row.forEach((c, j) => (i === j ? (same += c) : (diff += c)));
    if (row.every((c, j) => j === i || c < row[i]!)) top1++;
  });
  return `mean same ${(same / n).toFixed(3)}, mean different ${(diff / (n * n - n)).toFixed(3)}, top-1 ${top1}/${n}`;
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? path.join(fixtureDir, 'faceapi-embeddings.json');
  const faceapi = (await import(pathToFileURL(faceApiModule()).href)) as FaceApi;
  const tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();
  const modelDir = path.join(cache, 'package', 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'face_recognition_model-weights_manifest.json'), 'utf8')) as {
    paths: string[];
    weights: unknown[];
  }[];
  const group = manifest[0]!;
  const bin = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), group.weights));

  const describe = async (chw: Float32Array, size: number): Promise<number[]> => {
    const x = tf.tensor3d(toPixels(chw, size), [size, size, 3]);
    const y = await net.computeFaceDescriptor(x);
    x.dispose();
    if (!(y instanceof Float32Array)) throw new Error('expected one descriptor');
    return Array.from(y);
  };
  const round = (v: number[]): number[] => v.map((e) => Number(e.toPrecision(8)));

  const faces = [];
  for (const name of ['face112-a.png', 'face112-b.png']) {
    const chw = await pngFace(name);
    faces.push({ file: name, input: checksum(chw), embedding: round(await describe(chw, 112)) });
  }
  const entries = [];
  const native: Record<Crop, Map<string, number[]>> = { full: new Map(), tight: new Map() };
  for (const image of referenceImages()) {
    for (const crop of ['full', 'tight'] as Crop[]) {
      const chw = await loadFace(path.join(sharedDir, 'testdata', image), crop);
      const t0 = performance.now();
      const emb = await describe(chw, 112);
      const ms = performance.now() - t0;
      entries.push({ image, crop, input: checksum(chw), embedding: round(emb) });
      native[crop].set(image, await describe(await loadFace(path.join(sharedDir, 'testdata', image), crop, 150), 150));
      console.log(image, crop, `${ms.toFixed(0)} ms`);
    }
  }
  for (const crop of ['full', 'tight'] as Crop[]) {
    const e = (dir: string, id: string): number[] => native[crop].get(`${dir}/${id}.png`)!;
    const t = PAIR_IDS.map((a) => PAIR_IDS.map((b) => cosine(e('ref_cropped_faces', a), e('ref_faces', b))));
    console.log(`face-api fed 150 px crops directly (${crop}): ${stats(t)}`);
  }
  const fixture = {
    runtime: `@vladmandic/face-api ${faceapi.version} FaceRecognitionNet, @tensorflow/tfjs ${tf.version.tfjs} backend ${tf.getBackend()}`,
    preprocessing:
      'tests/identity/face-input.ts loadFace() (112 px, RGB [-1,1]) -> (x+1)*127.5 HWC pixels -> face-api (resizes to 150 itself)',
    faces,
    entries,
  };
  fs.writeFileSync(out, JSON.stringify(fixture) + '\n');
  console.log(`wrote ${out}`);
}

void main();
