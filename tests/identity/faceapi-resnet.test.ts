/**
 * faceapi-resnet.onnx / faceapi-resnet-vjp.onnx (public/models/common/identity, made by
 * tools/identity/faceapi_resnet.py from @vladmandic/face-api's FaceRecognitionNet weights):
 * (a) ONNX embeddings vs face-api itself on TF.js (fixture by tools/identity/faceapi-reference.ts),
 * (b) the VJP graph vs float64 autograd / finite differences of the PyTorch twin (faceapi_resnet.py --fixtures),
 * (c) same-person vs different-person cosines on ../shared/testdata ref pairs, next to MobileFace.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAIR_IDS } from '../../tools/identity/identity-config';
import { checksum, cosine, fixtureDir, identityDir, loadFace, sharedDir, type Crop } from './face-input';

interface Entry {
  input: ReturnType<typeof checksum>;
  embedding: number[];
}
interface FaceApiFixture {
  runtime: string;
  faces: (Entry & { file: string })[];
  entries: (Entry & { image: string; crop: Crop })[];
}
interface VjpFixture {
  faces: [string, string];
  gradSampleStride: number;
  directions: { seed: number; count: number; h: number };
  embeddingA64: number[];
  embeddingB64: number[];
  cotangent: number[];
  gradNorm64: number;
  gradSample64: number[];
  autograd64: number[];
  fd64: number[];
}

const S = 112;
const DIM = 128;
const SHAPE = [1, 3, S, S];
const MAX_BYTES = 16 * 1024 * 1024;
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1 };
const ref = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'faceapi-embeddings.json'), 'utf8')) as FaceApiFixture;
const vjpFx = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'vjp-faceapi.json'), 'utf8')) as VjpFixture;
const fwdPath = path.join(identityDir, 'faceapi-resnet.onnx');
const vjpPath = path.join(identityDir, 'faceapi-resnet-vjp.onnx');

let fwd: ort.InferenceSession;
let vjp: ort.InferenceSession;
let mobileface: ort.InferenceSession;
beforeAll(async () => {
  fwd = await ort.InferenceSession.create(fwdPath, opts);
  vjp = await ort.InferenceSession.create(vjpPath, opts);
  mobileface = await ort.InferenceSession.create(path.join(identityDir, 'mobileface.onnx'), opts);
});

async function embed(x: Float32Array, session = fwd): Promise<Float32Array> {
  const r = await session.run({ input: new ort.Tensor('float32', x, SHAPE) });
  return r.embedding!.data as Float32Array;
}

async function grad(x: Float32Array, c: Float32Array): Promise<Float32Array> {
  const r = await vjp.run({ input: new ort.Tensor('float32', x, SHAPE), cotangent: new ort.Tensor('float32', c, [1, DIM]) });
  return r.grad_input!.data as Float32Array;
}

async function face112(name: string): Promise<Float32Array> {
  const { data } = await sharp(path.join(fixtureDir, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const x = new Float32Array(3 * S * S);
  for (let i = 0; i < S * S; i++) for (let c = 0; c < 3; c++) x[c * S * S + i] = (data[i * 3 + c]! / 255) * 2 - 1;
  return x;
}

/** Park-Miller, as in tools/identity/faceapi_resnet.py (products stay below 2^53). */
function directions(seed: number, count: number, n: number): Float64Array[] {
  let s = seed;
  const out: Float64Array[] = [];
  for (let k = 0; k < count; k++) {
    const v = new Float64Array(n);
    let norm = 0;
    for (let i = 0; i < n; i++) {
      s = (s * 48271) % 2147483647;
      v[i] = s / 2147483647 - 0.5;
      norm += v[i]! * v[i]!;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i]! /= norm;
    out.push(v);
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
};
const sameInput = (x: Float32Array, e: Entry): void => {
  // same pixels as the face-api run, or the comparison means nothing
  const ck = checksum(x);
  expect(Math.abs(ck.sumAbs - e.input.sumAbs) / e.input.sumAbs).toBeLessThan(1e-12);
  expect(Math.abs(ck.weighted - e.input.weighted) / Math.abs(e.input.weighted)).toBeLessThan(1e-12);
};

describe('faceapi-resnet (face-api FaceRecognitionNet as ONNX)', () => {
  it('files are under 16 MiB and have the identity / identity-vjp role signatures', async () => {
    expect(fs.statSync(fwdPath).size).toBeLessThan(MAX_BYTES);
    expect(fs.statSync(vjpPath).size).toBeLessThan(MAX_BYTES);
    expect(fwd.inputNames).toEqual(['input']);
    expect(fwd.outputNames).toEqual(['embedding']);
    expect(vjp.inputNames).toEqual(['input', 'cotangent']);
    expect(vjp.outputNames).toEqual(['grad_input']);
    const x = await face112('face112-a.png');
    const r = await fwd.run({ input: new ort.Tensor('float32', x, SHAPE) });
    expect(r.embedding!.dims).toEqual([1, DIM]);
    const g = await vjp.run({
      input: new ort.Tensor('float32', x, SHAPE),
      cotangent: new ort.Tensor('float32', new Float32Array(DIM).fill(0.1), [1, DIM]),
    });
    expect(g.grad_input!.dims).toEqual(SHAPE);
  });

  it('(a) matches face-api on TF.js for the committed fixture faces (cosine >= 0.99999)', async () => {
    expect(ref.faces.length).toBe(2);
    for (const e of ref.faces) {
      const x = await face112(e.file);
      sameInput(x, e);
      const y = await embed(x);
      expect(y.length).toBe(DIM);
      expect(cosine(y, e.embedding)).toBeGreaterThanOrEqual(0.99999);
      expect(relL2(y, e.embedding)).toBeLessThan(1e-4);
    }
    // and the two faces differ, so the check is not vacuous
    expect(cosine(ref.faces[0]!.embedding, ref.faces[1]!.embedding)).toBeLessThan(0.99);
  });

  it('(a) matches face-api on TF.js on the shared test faces, 2 crops each (cosine >= 0.99999)', async () => {
    expect(ref.entries.length).toBe(PAIR_IDS.length * 2 * 2);
    let minCos = 1;
    let maxRel = 0;
    let ms = 0;
    for (const e of ref.entries) {
      const x = await loadFace(path.join(sharedDir, 'testdata', e.image), e.crop);
      sameInput(x, e);
      const t0 = performance.now();
      const y = await embed(x);
      ms += performance.now() - t0;
      const c = cosine(y, e.embedding);
      minCos = Math.min(minCos, c);
      maxRel = Math.max(maxRel, relL2(y, e.embedding));
      expect(c).toBeGreaterThanOrEqual(0.99999);
    }
    console.info(
      `faceapi-resnet: ONNX vs ${ref.runtime} over ${ref.entries.length} inputs: min cosine ${minCos.toFixed(8)}, ` +
        `max relL2 ${maxRel.toExponential(2)}; ${(ms / ref.entries.length).toFixed(0)} ms per embedding (onnxruntime-node, 1 thread)`,
    );
  });

  it('(b) the VJP graph matches float64 autograd and finite differences', async () => {
    const xa = await face112(vjpFx.faces[0]);
    const ya = await embed(xa);
    expect(relL2(ya, vjpFx.embeddingA64)).toBeLessThan(1e-4);
    expect(relL2(await embed(await face112(vjpFx.faces[1])), vjpFx.embeddingB64)).toBeLessThan(1e-4);
    const t0 = performance.now();
    const g = await grad(xa, Float32Array.from(vjpFx.cotangent));
    const ms = performance.now() - t0;
    const sample = Array.from({ length: vjpFx.gradSample64.length }, (_, i) => g[i * vjpFx.gradSampleStride]!);
    const sampleErr = relL2(sample, vjpFx.gradSample64);
    let norm = 0;
    for (const v of g) norm += v * v;
    expect(Math.abs(Math.sqrt(norm) - vjpFx.gradNorm64) / vjpFx.gradNorm64).toBeLessThan(1e-3);
    expect(sampleErr).toBeLessThan(1e-3);
    const dirs = directions(vjpFx.directions.seed, vjpFx.directions.count, xa.length);
    const an = dirs.map((v) => dot(g, v));
    const fdErr = relL2(an, vjpFx.fd64);
    expect(relL2(an, vjpFx.autograd64)).toBeLessThan(1e-3);
    expect(fdErr).toBeLessThan(1e-3);
    console.info(
      `faceapi-resnet: VJP (float32, onnxruntime-node, ${ms.toFixed(0)} ms) vs float64 autograd: grad sample relL2 ${sampleErr.toExponential(2)}; ` +
        `${dirs.length} directional derivatives vs float64 central differences (h=${vjpFx.directions.h}) relL2 ${fdErr.toExponential(2)}`,
    );
  });

  it('steps along -J^T 2(E(x)-E(ref)) lower the identity loss (what the engine does each step)', async () => {
    const target = await embed(await face112(vjpFx.faces[1]));
    let x = await face112(vjpFx.faces[0]);
    const loss = (e: Float32Array): number => e.reduce((s, v, i) => s + (v - target[i]!) ** 2, 0);
    const losses = [loss(await embed(x))];
    for (let step = 0; step < 5; step++) {
      const e = await embed(x);
      const g = await grad(
        x,
        e.map((v, i) => 2 * (v - target[i]!)),
      );
      let n = 0;
      for (const v of g) n += v * v;
      const k = 0.5 / Math.sqrt(n); // fixed-length steps, L2 0.5 over the whole image
      x = x.map((v, i) => v - k * g[i]!);
      losses.push(loss(await embed(x)));
    }
    console.info(`faceapi-resnet: identity loss over 5 guided steps ${losses.map((l) => l.toPrecision(4)).join(' -> ')}`);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(losses.at(-1)!).toBeLessThan(0.9 * losses[0]!);
  });
});

describe('onnxruntime-web (wasm, run here in Node) runs both graphs (the browser engine)', () => {
  it('forward matches face-api and the VJP matches onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const x = await face112(ref.faces[0]!.file);
    const web = await ortWeb.InferenceSession.create(new Uint8Array(fs.readFileSync(fwdPath)), { executionProviders: ['wasm'] });
    const y = (await web.run({ input: new ortWeb.Tensor('float32', x, SHAPE) })).embedding!.data as Float32Array;
    await web.release();
    expect(cosine(y, ref.faces[0]!.embedding)).toBeGreaterThanOrEqual(0.99999);
    const c = Float32Array.from(vjpFx.cotangent);
    const webVjp = await ortWeb.InferenceSession.create(new Uint8Array(fs.readFileSync(vjpPath)), { executionProviders: ['wasm'] });
    const gw = (await webVjp.run({ input: new ortWeb.Tensor('float32', x, SHAPE), cotangent: new ortWeb.Tensor('float32', c, [1, DIM]) }))
      .grad_input!.data as Float32Array;
    await webVjp.release();
    expect(relL2(gw, await grad(x, c))).toBeLessThan(1e-5);
    // wasm session creation of this net takes ~10 s idle and over 60 s while the rest of the suite runs
  }, 400_000);
});

describe('(c) same person vs different person: faceapi-resnet next to mobileface', () => {
  interface Stats {
    same: number;
    diff: number;
    top1: number;
  }
  async function table(session: ort.InferenceSession, crop: Crop): Promise<number[][]> {
    const a: Float32Array[] = [];
    const b: Float32Array[] = [];
    for (const p of PAIR_IDS) {
      a.push(await embed(await loadFace(path.join(sharedDir, 'testdata', 'ref_cropped_faces', `${p}.png`), crop), session));
      b.push(await embed(await loadFace(path.join(sharedDir, 'testdata', 'ref_faces', `${p}.png`), crop), session));
    }
    return a.map((ea) => b.map((eb) => cosine(ea, eb)));
  }
  function stats(t: number[][]): Stats {
    const n = t.length;
    let same = 0;
    let diff = 0;
    let top1 = 0;
    t.forEach((row, i) => {
      row.forEach((c, j) => (i === j ? (same += c) : (diff += c)));
      if (row.every((c, j) => j === i || c < row[i]!)) top1++;
    });
    return { same: same / n, diff: diff / (n * n - n), top1 };
  }
  const show = (id: string, crop: Crop, t: number[][]): Stats => {
    const s = stats(t);
    console.info(
      `${id} ${crop}: rows ref_cropped_faces, cols ref_faces (${PAIR_IDS.join(' ')})\n` +
        t.map((r, i) => `${PAIR_IDS[i]} ${r.map((c) => c.toFixed(3)).join(' ')}`).join('\n') +
        `\nmean same ${s.same.toFixed(3)}, mean different ${s.diff.toFixed(3)}, gap ${(s.same - s.diff).toFixed(3)}, top-1 ${s.top1}/${t.length}`,
    );
    return s;
  };

  it.each(['full', 'tight'] as Crop[])('%s crop', async (crop) => {
    const f = show('faceapi-resnet', crop, await table(fwd, crop));
    const m = show('mobileface', crop, await table(mobileface, crop));
    // The finding recorded in the README, guarded so a change is noticed: on these heavily degraded
    // pairs the face-api (dlib) embedding scores every pair ~0.9 and separates less than MobileFace.
    expect(f.same).toBeGreaterThan(f.diff);
    expect(Math.min(...(await table(fwd, crop)).flat())).toBeGreaterThan(0.8);
    expect(m.same - m.diff).toBeGreaterThan(f.same - f.diff);
  });
});
