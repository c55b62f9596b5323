/**
 * Checks the ONNX conversion of the @upscalerjs super-resolution models against TF.js itself (pure-JS CPU
 * backend, the models' own runtime) and writes the small committed fixture the unit test compares against
 * (tests/fixtures/upscaler/tfjs-reference.json), so CI needs neither TF.js nor the npm tarball.
 *
 *   npx tsx tools/upscaler/tfjs-reference.ts <package dir> <onnx dir> <model>...   (convert.sh runs it)
 *
 * <model> is "<size>-x<scale>", e.g. slim-x2: <package dir>/<size>/package/models/x<scale>/model.json
 * against <onnx dir>/esrgan-<size>-x<scale>.onnx. The check input is a real face (../shared/testdata/ref_faces,
 * downscaled to 64 px); the fixture input is a 16x16 patch of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

interface TfTensor {
  data(): Promise<Float32Array>;
  dispose(): void;
  shape: number[];
}
interface TfLayersModel {
  predict(x: TfTensor): TfTensor;
}
interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  version: { tfjs: string };
  tensor4d(values: Float32Array, shape: [number, number, number, number]): TfTensor;
  loadLayersModel(handler: unknown): Promise<TfLayersModel>;
  io: { fromMemory(artifacts: unknown): unknown };
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const tfDir = path.resolve(process.env.TFJS_DIR ?? path.join(repoRoot, '.data', 'upscaler', 'tfjs'));
const tf = createRequire(path.join(tfDir, 'package.json'))('@tensorflow/tfjs') as TfLike;

/** RGB HWC float32 in 0..255 of an image resized (area) to side x side. */
async function face(file: string, side: number, patch?: { left: number; top: number; size: number }): Promise<Float32Array> {
  let s = sharp(file).removeAlpha().resize(side, side, { kernel: 'lanczos3' });
  if (patch) s = sharp(await s.png().toBuffer()).extract({ left: patch.left, top: patch.top, width: patch.size, height: patch.size });
  const buf = await s.raw().toBuffer();
  return Float32Array.from(buf);
}

function hwcToChw(x: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) out[c * h * w + i] = x[i * 3 + c]!;
  return out;
}

async function tfjsRun(
  modelJson: string,
  hwc: Float32Array,
  h: number,
  w: number,
): Promise<{ out: Float32Array; shape: number[]; ms: number }> {
  const dir = path.dirname(modelJson);
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const bin = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
  const x = tf.tensor4d(hwc, [1, h, w, 3]);
  const t0 = performance.now();
  const y = model.predict(x);
  const out = await y.data();
  const ms = performance.now() - t0;
  const shape = [...y.shape];
  x.dispose();
  y.dispose();
  return { out, shape, ms };
}

async function onnxRun(file: string, hwc: Float32Array, h: number, w: number): Promise<Float32Array> {
  const sess = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  // the ONNX graph takes [0,1] (the models' 0..255 is folded into its weights)
  const r = await sess.run({
    input: new ort.Tensor(
      'float32',
      hwcToChw(hwc, h, w).map((v) => v / 255),
      [1, 3, h, w],
    ),
  });
  const out = r.output!.data as Float32Array;
  await sess.release();
  return out;
}

function maxAbsDiffNhwcNchw(nhwc: Float32Array, nchw: Float32Array, h: number, w: number): number {
  let m = 0;
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(nhwc[i * 3 + c]! / 255 - nchw[c * h * w + i]!));
  return m;
}

async function main(): Promise<void> {
  const [pkgDir, onnxDir, ...models] = process.argv.slice(2);
  if (!pkgDir || !onnxDir || models.length === 0) throw new Error('usage: tfjs-reference.ts <package dir> <onnx dir> <size>-x<scale>...');
  await tf.setBackend('cpu');
  await tf.ready();
  const src = path.resolve(repoRoot, '..', 'shared', 'testdata', 'ref_faces', '00010.png');
  const fixture: Record<string, unknown> = {};
  const patch = { left: 24, top: 28, size: 16 };
  const patchIn = await face(src, 64, patch);
  let worst = 0;
  for (const id of models) {
    const m = /^(\w+)-x(\d)$/.exec(id);
    if (!m) throw new Error(`model ${id}: expected <size>-x<scale>`);
    const json = path.join(pkgDir, m[1]!, 'package', 'models', `x${m[2]}`, 'model.json');
    const file = path.join(onnxDir, `esrgan-${id}.onnx`);
    const s = Number(m[2]);
    const input = await face(src, 64);
    const ref = await tfjsRun(json, input, 64, 64);
    const got = await onnxRun(file, input, 64, 64);
    const d = maxAbsDiffNhwcNchw(ref.out, got, 64 * s, 64 * s);
    worst = Math.max(worst, d);
    console.log(
      `${id}: 64x64 face -> ${ref.shape.join('x')}, max |TF.js/255 - ONNX| = ${d.toExponential(2)} ([0,1] units; ${(d * 255).toExponential(2)} on TF.js's 0..255), TF.js ${ref.ms.toFixed(0)} ms`,
    );
    const small = await tfjsRun(json, patchIn, patch.size, patch.size);
    fixture[id] = {
      onnx: path.relative(repoRoot, file),
      outputShape: [1, 3, patch.size * s, patch.size * s],
      // NCHW in [0,1] like the ONNX output (TF.js's 0..255 / 255), 7 significant digits
      output: Array.from(hwcToChw(small.out, patch.size * s, patch.size * s), (v) => Number((v / 255).toPrecision(7))),
      checkOn64pxFace: d,
    };
  }
  const out = path.join(repoRoot, 'tests', 'fixtures', 'upscaler', 'tfjs-reference.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({
      runtime: `@tensorflow/tfjs ${tf.version.tfjs} backend ${tf.getBackend()}`,
      input: {
        source: 'ref_faces/00010.png, lanczos3 to 64x64, patch; bytes 0..255 (the ONNX input is bytes / 255)',
        patch,
        shape: [1, 3, patch.size, patch.size],
        data: Array.from(hwcToChw(patchIn, patch.size, patch.size)),
      },
      models: fixture,
    }) + '\n',
  );
  console.log(`wrote ${out}; worst max abs diff ${worst.toExponential(2)}`);
  if (worst > 1e-4) {
    console.error(`FAIL: ONNX differs from TF.js by ${worst} > 1e-4`);
    process.exit(1);
  }
}

void main();
