/**
 * The super-resolution step: the shipped ESRGAN-slim ONNX models against TF.js's own output (committed fixture,
 * tools/upscaler/tfjs-reference.ts), run on the app's CPU runtime (onnxruntime-web, WASM, here in Node); and the
 * path a download takes (workers/upscaler/service.ts): a 512 px face from a 64 or 256 px model output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../workers/api';
import { applyAffine } from '../../workers/faces/alignment';
import { resizeBicubic } from '../../workers/upscaler/resample';
import { UPSCALER_ROLES, Upscaler, componentsLoader, scaleCropInverse, type UpscalerHost } from '../../workers/upscaler/service';
import { planPasses, runModel } from '../../workers/upscaler/upscale';
import { parseComponentManifest } from '../../workers/models/manifest';
import type { FetchLike } from '../../workers/models/download';
import { fileFetch } from '../../cli/node-engine';
import { loadRgba } from '../../tools/faces/node-io';

ort.env.wasm.numThreads = 1;
const root = path.resolve(import.meta.dirname, '..', '..');
const publicDir = path.join(root, 'public');
const upscalerDir = path.join(publicDir, 'models/common/upscaler');
const manifest = parseComponentManifest(JSON.parse(fs.readFileSync(path.join(upscalerDir, 'manifest.json'), 'utf8')), 'upscaler manifest');
const refFace = path.resolve(root, '..', 'shared', 'testdata', 'ref_faces', '00016.png');

/** The models through the models module (components manifest, sha256), from public/ on disk, no cache. */
const publicUrl = pathToFileURL(publicDir + path.sep).href;
const fromDisk = (fetch: FetchLike = fileFetch) => componentsLoader({ store: null, fetch, bundledBaseUrl: publicUrl });

const nodeHost = (over: Partial<UpscalerHost> = {}): UpscalerHost => ({
  loadModels: fromDisk(),
  createRunner: async (bytes) => {
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    return {
      run: async (data, dims) => {
        const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
        return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]));
      },
      release: () => s.release(),
    };
  },
  ...over,
});

function meanAbsDiff(a: RgbaImage, b: RgbaImage): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    s += Math.abs(a.data[i]! - b.data[i]!);
    n++;
  }
  return s / n;
}

interface Fixture {
  input: { shape: number[]; data: number[] };
  models: Record<string, { outputShape: number[]; output: number[] }>;
}

describe('the shipped ESRGAN-slim models', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/upscaler/tfjs-reference.json'), 'utf8')) as Fixture;

  it('are listed in their components manifest, one per scale, with the files on disk', () => {
    expect(manifest.models.map((m) => m.role)).toEqual([UPSCALER_ROLES.x2, UPSCALER_ROLES.x4]);
    for (const m of manifest.models) expect(fs.statSync(path.join(upscalerDir, m.files.fp32.path)).size).toBe(m.files.fp32.bytes);
  });

  it.each(Object.entries(UPSCALER_ROLES))('%s matches TF.js on the fixture to 1e-4 (onnxruntime-web, WASM)', async (key, role) => {
    const ref = fixture.models[`slim-${key}`];
    expect(ref, `fixture for slim-${key}`).toBeDefined();
    const file = manifest.models.find((m) => m.role === role)!.files.fp32;
    const s = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(path.join(upscalerDir, file.path))), {
      executionProviders: ['wasm'],
    });
    const x = Float32Array.from(fixture.input.data, (v) => v / 255);
    const out = (await s.run({ input: new ort.Tensor('float32', x, fixture.input.shape) })).output!;
    await s.release();
    expect([...out.dims]).toEqual(ref!.outputShape);
    let worst = 0;
    const got = out.data as Float32Array;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref!.output[i]!));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

describe('planning and tiling', () => {
  it('picks the fewest model passes, then bicubic makes the exact size', () => {
    const both = { x2: true, x4: true };
    expect(planPasses(64, 512, both)).toEqual([4, 2]);
    expect(planPasses(256, 512, both)).toEqual([2]);
    expect(planPasses(256, 1024, both)).toEqual([4]);
    expect(planPasses(128, 512, both)).toEqual([4]);
    expect(planPasses(256, 300, both)).toEqual([]); // 1.17x: bicubic alone
    expect(planPasses(256, 700, both)).toEqual([4]);
    expect(planPasses(64, 512, { x2: true, x4: false })).toEqual([2, 2, 2]);
    expect(planPasses(512, 256, both)).toEqual([]);
  });

  it('a tiled pass equals the whole-image pass (tiles see enough context)', async () => {
    const host = nodeHost();
    const x2 = await host.createRunner((await host.loadModels()).x2!, 'x2');
    const face = resizeBicubic(await loadRgba(refFace), 56, 56);
    const whole = await runModel(face, x2.run, 2, { tile: 1000 });
    const tiled = await runModel(face, x2.run, 2, { tile: 24, overlap: 24 });
    await x2.release();
    let worst = 0;
    for (let i = 0; i < whole.data.length; i++) worst = Math.max(worst, Math.abs(whole.data[i]! - tiled.data[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('an enlarged crop keeps its place in the photo (pixel centres)', () => {
    const inv: [number, number, number, number, number, number] = [3.1, -0.4, 20, 0.4, 3.1, 35];
    const k = 8;
    const big = scaleCropInverse(inv, k);
    for (const [u, v] of [
      [0, 0],
      [10.5, 3],
      [63, 63],
    ] as const) {
      // the centre of small pixel (u, v) is the centre of the k x k block of big pixels it became
      const [x, y] = applyAffine(inv, u, v);
      const [bx, by] = applyAffine(big, (u + 0.5) * k - 0.5, (v + 0.5) * k - 0.5);
      expect(bx).toBeCloseTo(x, 9);
      expect(by).toBeCloseTo(y, 9);
    }
  });
});

describe('a 512 px download from a small model output goes through the upscaler', () => {
  it.each([64, 256])('from %i px: 512x512, ESRGAN passes ran, and it differs from bicubic', async (from) => {
    const original = await loadRgba(refFace);
    const output = resizeBicubic(original, from, from); // stands for the model's output
    const up = new Upscaler(nodeHost());
    const sr = await up.upscale(output, 512, 512, 'esrgan');
    const bi = await up.upscale(output, 512, 512, 'bicubic');
    await up.dispose();
    expect(sr.method).toBe('esrgan');
    expect(sr.fallbackReason).toBeUndefined();
    expect(sr.passes).toEqual(from === 64 ? [4, 2] : [2]);
    expect([sr.image.width, sr.image.height]).toEqual([512, 512]);
    expect([bi.image.width, bi.image.height, bi.method]).toEqual([512, 512, 'bicubic']);
    // a different image from bicubic, but the same face (not noise, not shifted)
    const d = meanAbsDiff(sr.image, bi.image);
    expect(d).toBeGreaterThan(0.5);
    expect(d).toBeLessThan(from === 64 ? 12 : 6);
    expect(meanAbsDiff(sr.image, original)).toBeLessThan(from === 64 ? 20 : 8);
  });

  it('falls back to bicubic with a message when the model cannot be loaded or is damaged', async () => {
    const img = resizeBicubic(await loadRgba(refFace), 64, 64);
    const missing = new Upscaler(
      nodeHost({
        loadModels: fromDisk(async (url, init) =>
          url.endsWith('.onnx') ? new Response('not found', { status: 404 }) : fileFetch(url, init),
        ),
      }),
    );
    const r = await missing.upscale(img, 256, 256, 'esrgan');
    expect(r.method).toBe('bicubic');
    expect(r.fallbackReason).toMatch(/could not be loaded \(.*esrgan-slim-x2\.onnx.*\); the face was enlarged with bicubic/);
    expect(Buffer.from(r.image.data).equals(Buffer.from(resizeBicubic(img, 256, 256).data))).toBe(true);
    // one flipped byte in the x4 model: its sha256 in the manifest refuses it
    const damaged = new Upscaler(
      nodeHost({
        loadModels: fromDisk(async (url, init) => {
          const res = await fileFetch(url, init);
          if (!url.endsWith('esrgan-slim-x4.onnx')) return res;
          const bytes = new Uint8Array(await res.arrayBuffer());
          bytes[5000] = bytes[5000]! ^ 0xff;
          return new Response(bytes, { status: 200 });
        }),
      }),
    );
    expect((await damaged.upscale(img, 256, 256, 'esrgan')).fallbackReason).toMatch(/esrgan-slim-x4\.onnx: sha256 mismatch/);
    await expect(missing.upscale(img, 0, 256, 'esrgan')).rejects.toThrow(/whole pixels between 1 and 8192/);
  });
});
