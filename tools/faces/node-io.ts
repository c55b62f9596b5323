/**
 * Node-only helpers for tests and tools: onnxruntime-node runner for the face detector, and
 * image I/O with sharp. Not imported by workers/ code that ships to the browser.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { RgbaImage } from '../../workers/api';
import type { DetectorRunner, RunnerTensor } from '../../workers/faces/detector';

export async function createOrtRunner(modelPath: string, threads = 1): Promise<{ run: DetectorRunner; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const inputName = session.inputNames[0]!;
  const run: DetectorRunner = async (input, dims) => {
    const result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
    const out: Record<string, RunnerTensor> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
    }
    return out;
  };
  return { run, release: () => session.release() };
}

export async function loadRgba(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

export async function saveRgba(img: RgbaImage, path: string): Promise<void> {
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 4 },
  }).toFile(path);
}

export async function decodeRgba(bytes: Buffer): Promise<RgbaImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}
