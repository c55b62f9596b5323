/**
 * The bundled model set (public/models/pgdiff-utk-latent): its manifest validates, its files are the ones it
 * names, sizes fit the budget, and the trained networks do better than trivial baselines on faces they
 * never saw (real test photos re-framed into the set's framing).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../workers/api';
import type { Point } from '../../workers/faces/templates';
import { makeDiffusion } from '../../workers/engine/schedule';
import { parseManifest } from '../../workers/models/manifest';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { fromFfhq } from './frame';
import { assertIndependent } from './judge';
import { boxBlur3 } from './metrics/box-blur';
import { psnr } from './metrics/psnr';
import { createNodeEngine } from '../../cli/node-engine';
import { defaultSampler, presetGuidance, withTaskDefaults } from '../../workers/shared/presets';

const root = path.resolve(import.meta.dirname, '..', '..');
const setDir = path.join(root, 'public/models/pgdiff-utk-latent');
const testdata = path.resolve(root, '..', 'shared', 'testdata');
const manifest: ModelManifest = parseManifest(
  JSON.parse(readFileSync(path.join(setDir, 'manifest.json'), 'utf8')),
  'pgdiff-utk-latent/manifest.json',
);
const file = (role: string) => path.resolve(setDir, manifest.models.find((m) => m.role === role)!.files.fp32.path);
const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1 };
const R = manifest.resolution;
const L = manifest.latent!;
const h = R / L.downscale;

async function face(rel: string): Promise<Float32Array> {
  const { data, info } = await sharp(path.join(testdata, rel)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const img: RgbaImage = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
  const f = fromFfhq(img, manifest.alignment.template as Point[], R);
  const t = new Float32Array(3 * R * R);
  for (let i = 0; i < R * R; i++) for (let c = 0; c < 3; c++) t[c * R * R + i] = (f.data[i * 4 + c]! / 255) * 2 - 1;
  return t;
}

/** Deterministic standard normal noise. */
function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** alpha_bar_t of the set's own schedule (the engine's code, not a copy). */
const diffusion = makeDiffusion(manifest.diffusion.schedule, manifest.diffusion.steps, manifest.diffusion.steps);
const abar = (t: number) => diffusion.alphasCumprod[t] as number;

const meanSq = (a: Float32Array, b?: Float32Array) => a.reduce((s, v, i) => s + (v - (b ? b[i]! : 0)) ** 2, 0) / a.length;

describe('bundled model set pgdiff-utk-latent', () => {
  it('has a valid manifest whose files match their sha256 and sizes, within the size budget, with the licences', () => {
    expect(manifest.name).toBe('pgdiff-utk-latent');
    expect(manifest.testOnly).toBeFalsy();
    expect(R).toBe(256);
    expect(manifest.licence).toMatch(/non-commercial/i);
    expect(manifest.licence).toMatch(/UTKFace/);
    expect(manifest.licence).toMatch(/TAEF2.*MIT/);
    const roles = manifest.models.map((m) => m.role).sort();
    expect(roles).toEqual(['decoder', 'decoder-vjp', 'encoder', 'identity', 'identity-vjp', 'prior', 'restorer']);
    // identity guidance: face-api's FaceRecognitionNet (128-d); MobileFace stays out of the set, the quality tools'
    // independent judge (tools/quality/judge.ts)
    const identity = manifest.models.find((m) => m.role === 'identity')!;
    expect(identity.files.fp32.path).toBe('../common/identity/faceapi-resnet.onnx');
    expect(identity.outputs[0]!.shape).toEqual([1, 128]);
    expect(manifest.models.find((m) => m.role === 'identity-vjp')!.files.fp32.path).toBe('../common/identity/faceapi-resnet-vjp.onnx');
    expect(() => assertIndependent(manifest, setDir)).not.toThrow();
    expect(manifest.licence).toMatch(/face-api.*MIT/);
    expect(manifest.licence).toMatch(/dlib/);
    let own = 0;
    let download = 0;
    for (const m of manifest.models) {
      for (const f of [m.files.fp32, m.files.fp16]) {
        if (!f) continue;
        const p = path.resolve(setDir, f.path);
        const bytes = readFileSync(p);
        expect(bytes.length).toBe(f.bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
        expect(bytes.length).toBeLessThan(16 * 1024 * 1024);
        if (path.dirname(p) === setDir) own += statSync(p).size;
      }
      download += m.files.fp32.bytes;
    }
    expect(own).toBeLessThan(64 * 1024 * 1024);
    // what a browser without shader-f16 downloads, the identity network included (face-api's FaceRecognitionNet and its
    // VJP: 13.7 MB, against MobileFace's 4.4 MB before; 49.4 MiB in all)
    expect(download).toBeLessThan(52 * 1024 * 1024);
    // every task starts from the set's own defaults; a start below T needs the encoder, present above
    expect(Object.keys(manifest.defaults ?? {}).sort()).toEqual(['blind', 'colorization', 'inpainting', 'old-photo', 'reference']);
  });

  it('the prior denoises latents of re-framed unseen faces better than predicting x_t, at every noise level', async () => {
    const enc = await ort.InferenceSession.create(file('encoder'), opts);
    const s = await ort.InferenceSession.create(file('prior'), opts);
    const x0err: number[] = [];
    const baseline: number[] = [];
    const n = L.channels * h * h;
    for (const rel of ['ref_faces/00010.png', 'ref_faces/00016.png']) {
      const img = await face(rel);
      const encoded = await enc.run({ [enc.inputNames[0]!]: new ort.Tensor('float32', img, [1, 3, R, R]) });
      const raw = encoded[enc.outputNames[0]!]!.data as Float32Array;
      const x0 = new Float32Array(n);
      for (let c = 0; c < L.channels; c++)
        for (let i = 0; i < h * h; i++) x0[c * h * h + i] = (raw[c * h * h + i]! - L.mean[c]!) / L.std[c]!;
      for (const t of [100, 500, 900]) {
        const eps = noise(n, t + 7);
        const a = abar(t);
        const xt = x0.map((v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]!);
        const out = await s.run({
          x: new ort.Tensor('float32', xt, [1, L.channels, h, h]),
          t: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]),
        });
        const pred = out[s.outputNames[0]!]!.data as Float32Array;
        // judged on x0_hat = (x_t - sqrt(1-a) eps_hat) / sqrt(a), against the best x_t-proportional guess:
        // x0_hat = sqrt(a) x_t (what predicting eps_hat = sqrt(1-a) x_t gives, exact for x0 = 0)
        const x0hat = xt.map((v, i) => (v - Math.sqrt(1 - a) * pred[i]!) / Math.sqrt(a));
        x0err.push(meanSq(x0hat, x0) / meanSq(x0));
        baseline.push(
          meanSq(
            xt.map((v) => Math.sqrt(a) * v),
            x0,
          ) / meanSq(x0),
        );
      }
    }
    await s.release();
    await enc.release();
    console.log(
      `prior relative x0 error at t = 100, 500, 900 (two faces): ${x0err.map((r) => r.toFixed(3)).join(', ')}; predict-x_t ${baseline.map((r) => r.toFixed(3)).join(', ')}`,
    );
    // measured at step 4,300 (app framing): 0.065 / 0.32-0.33 / 0.82-0.87 against 0.073-0.076 / 0.65 / 0.98: better than
    // the baseline at every t, about half its error at t = 500, only ~12 % better at the ends (docs/training-latent.md:
    // the low-noise end is weak)
    x0err.forEach((r, i) => expect(r, `case ${i}`).toBeLessThan(baseline[i]!));
    x0err.forEach((r, i) => {
      if (i % 3 === 1) expect(r, `case ${i} (t = 500)`).toBeLessThan(PRIOR_X0_FRACTION * baseline[i]!);
    });
  });

  it('the restorer (from y alone) lands closer to the clean face than its input and than a 3x3 box blur', async () => {
    const s = await ort.InferenceSession.create(file('restorer'), opts);
    const rows: string[] = [];
    const results: { label: string; gain: number; blurGain: number }[] = [];
    for (const rel of ['ref_faces/00010.png', 'ref_faces/00041.png']) {
      const clean = await face(rel);
      for (const [kind, y] of [
        ['4x mosaic + noise', mosaic(clean)],
        ['blur, 3x down-up, noise, JPEG 40', await blindLike(clean)],
      ] as const) {
        const out = await s.run({ y: new ort.Tensor('float32', y, [1, 3, R, R]) });
        const r = out[s.outputNames[0]!]!.data as Float32Array;
        const gain = meanSq(y, clean) / meanSq(r, clean);
        const blurGain = meanSq(y, clean) / meanSq(boxBlur3(y, 3, R, R), clean);
        results.push({ label: `${rel} ${kind}`, gain, blurGain });
        rows.push(`${rel} ${kind}: ${gain.toFixed(3)} (3x3 box blur ${blurGain.toFixed(3)})`);
      }
    }
    await s.release();
    console.log(`restorer MSE gain over the input:\n  ${rows.join('\n  ')}`);
    // The trivial baseline is computed here on the same input: a 3x3 box blur (issue 12). Restorer steps up to 6,800
    // (latent UNet alone) lost to it: mosaic 1.30-1.77 against 2.06-2.63, light damage 0.90-1.03 against 1.01. With the
    // pixel refinement (tools/train/restorer_fusion.py, set 0.5.900+r6800): mosaic 2.82 / 2.40 against 2.63 / 2.06,
    // light damage 1.05 / 1.06 against 1.01 / 1.01 (docs/training-latent.md).
    for (const { label, gain, blurGain } of results) {
      expect(gain, label).toBeGreaterThan(1);
      expect(gain, `${label}: against a 3x3 box blur`).toBeGreaterThan(blurGain);
    }
  });

  it('inpainting with blended latents keeps the unmasked pixels before the final blend; guidance alone does not', async () => {
    const clean = await face('ref_faces/00041.png');
    const size = R * R;
    // a box over one eye and a diagonal stroke, white on the photo (the damage), white in the mask
    const hole = new Uint8Array(size);
    for (let y = 0; y < R; y++)
      for (let x = 0; x < R; x++) {
        const box = x >= 0.25 * R && x < 0.45 * R && y >= 0.3 * R && y < 0.45 * R;
        const stroke = Math.abs(x - y * 0.8 - 0.1 * R) < 3;
        if (box || stroke) hole[y * R + x] = 1;
      }
    const rgba = (fill: (i: number, c: number) => number): RgbaImage => {
      const data = new Uint8ClampedArray(size * 4);
      for (let i = 0; i < size; i++) {
        for (let c = 0; c < 3; c++) data[i * 4 + c] = fill(i, c);
        data[i * 4 + 3] = 255;
      }
      return { width: R, height: R, data };
    };
    const image = rgba((i, c) => (hole[i] ? 255 : Math.round(((clean[c * size + i]! + 1) / 2) * 255)));
    const mask = rgba((i) => (hole[i] ? 255 : 0));
    const ne = await createNodeEngine({ threads: 1 });
    const d = manifest.defaults!.inpainting!;
    const start = withTaskDefaults(presetGuidance('inpainting'), { ...defaultSampler(), seed: 1 }, d);
    // 20 steps from the set's start (0.6): 12 sampler calls instead of the default's 30, to keep the test short
    const outside = Array.from(hole, (v) => 1 - v);
    const psnrOutside = async (blendLatents: boolean) => {
      const res = await ne.restore({
        image,
        mask,
        keepUnmasked: false,
        blendLatents,
        guidance: start.guidance,
        sampler: { ...start.sampler, steps: 20 },
      });
      return psnr(res.images[0]!.data, image.data, size, { channels: 4, include: outside });
    };
    const blended = await psnrOutside(true);
    const guided = await psnrOutside(false);
    await ne.dispose();
    console.log(
      `inpainting, PSNR outside the mask before the final blend: blended latents ${blended.toFixed(2)} dB, guidance alone ${guided.toFixed(2)} dB`,
    );
    // measured at 20 steps (set 0.5.900+r6800, colour 10): 26.61 dB blended, 15.14 dB guidance alone; at the
    // default 50 steps the quality run's held-out faces reach 29.5-32.1 dB (docs/quality.md)
    expect(blended).toBeGreaterThan(25);
    expect(blended).toBeGreaterThan(guided + 3);
  });
});

/** 4x average-pool down and nearest up (an enlarged thumbnail), plus noise */
function mosaic(clean: Float32Array): Float32Array {
  const y = new Float32Array(clean.length);
  const nz = noise(clean.length, 3);
  for (let c = 0; c < 3; c++) {
    for (let by = 0; by < R; by += 4) {
      for (let bx = 0; bx < R; bx += 4) {
        let m = 0;
        for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) m += clean[c * R * R + (by + j) * R + bx + i]! / 16;
        for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) y[c * R * R + (by + j) * R + bx + i] = m;
      }
    }
  }
  for (let i = 0; i < y.length; i++) y[i] = Math.max(-1, Math.min(1, y[i]! + 0.06 * nz[i]!));
  return y;
}

/** Light blind damage, close to degrade.py's blind test recipe but made by sharp: Gaussian blur (sigma 3 px at 256),
 * bicubic down 3x and up, noise (8/255), JPEG quality 40 */
async function blindLike(clean: Float32Array): Promise<Float32Array> {
  const rgb = Buffer.alloc(R * R * 3);
  for (let i = 0; i < R * R; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(((clean[c * R * R + i]! + 1) / 2) * 255);
  const raw = { width: R, height: R, channels: 3 } as const;
  const small = await sharp(rgb, { raw })
    .blur(3)
    .resize(Math.round(R / 3), Math.round(R / 3), { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const up = await sharp(small, { raw: { ...raw, width: Math.round(R / 3), height: Math.round(R / 3) } })
    .resize(R, R, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const nz = noise(up.length, 11);
  const noisy = Buffer.from(up.map((v, i) => Math.max(0, Math.min(255, Math.round(v + 8 * nz[i]!)))));
  const jpeg = await sharp(noisy, { raw }).jpeg({ quality: 40 }).toBuffer();
  const back = await sharp(jpeg).removeAlpha().raw().toBuffer();
  const y = new Float32Array(3 * R * R);
  for (let i = 0; i < R * R; i++) for (let c = 0; c < 3; c++) y[c * R * R + i] = (back[i * 3 + c]! / 255) * 2 - 1;
  return y;
}

/** the prior's x0_hat error must be at most this fraction of the predict-x_t baseline's */
const PRIOR_X0_FRACTION = 0.6;
