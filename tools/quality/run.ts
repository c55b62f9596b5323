/**
 * Quality runs of the bundled model set (public/models/pgdiff-utk-latent): unconditional samples of the prior,
 * and the five PGDiff tasks through the real engine (cli/node-engine.ts) on ../shared/testdata (re-aligned
 * from the FFHQ 512 framing to the set's framing) and on held-out UTKFace faces with synthetic degradations
 * (.data/quality-inputs, written by tools/quality/make_synthetic.py).
 *
 *   npx tsx tools/quality/run.ts [--models public/models/pgdiff-utk-latent/manifest.json] [--steps N]
 *        [--n-test 3] [--out docs/quality] [--only samples,blind,inpainting,colorization,reference,old-photo]
 *        [--threads 1]
 *
 * Writes docs/quality/results.json (every number), docs/quality/results.md (the tables) and side-by-side
 * images docs/quality/<task>.png. Metrics: tools/quality/metrics (NIQE, PSNR, colour statistics, identity cosine). Identity
 * is graded by MobileFace loaded on its own (./judge.ts), never by the set's identity role: the bundled set guides with
 * face-api's FaceRecognitionNet, and a network must not grade its own guidance.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp, { type OverlayOptions } from 'sharp';
import type { GuidanceSettings, RestoreRequest, RgbaImage, TaskName } from '../../workers/api';
import { COLOR_STYLES, IDENTITY_COSINE_WEIGHT, defaultSampler, presetGuidance, withTaskDefaults } from '../../workers/shared/presets';
import type { Point } from '../../workers/faces/templates';
import { fromFfhq } from './frame';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { niqe } from './metrics/niqe';
import { colorStats, psnr } from './metrics/psnr';
import { createIdentityJudge, guidesWithJudge, type IdentityJudge } from './judge';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const testdata = path.resolve(repoRoot, '..', 'shared', 'testdata');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const manifestPath = path.resolve(arg('models', path.join(repoRoot, 'public/models/pgdiff-utk-latent/manifest.json')));
/** sampling steps for every task; default: each task's own from the set's defaults (else 100) */
const STEPS_ARG = arg('steps', '');
const STEPS = Number(STEPS_ARG || '100');
const N_TEST = Number(arg('n-test', '3'));
const N_SYN = Number(arg('n-synth', '4'));
const OUT = path.resolve(arg('out', path.join(repoRoot, 'docs/quality')));
const ONLY = new Set(arg('only', 'samples,blind,inpainting,colorization,reference,old-photo').split(','));
const THREADS = Number(arg('threads', '1'));
const SYN = path.resolve(arg('synthetic', path.join(repoRoot, '.data/quality-inputs')));
/** held-out real faces (tools/train/pack.py's split) for the samples' reference NIQE and colour range */
const REAL = path.resolve(arg('real', path.join(repoRoot, '.data/utk_val200')));
/** the paper's settings instead of the set's per-task defaults */
const PAPER = process.argv.includes('--paper-values');
const SEED = 1;
const N_SAMPLES = Number(arg('n-samples', '16'));
const N_OLD_SYN = Number(arg('n-old-synth', '1'));
/** multiplies every task's guidance scale (a sweep for this under-trained, low-resolution set) */
const SCALE_MULT = Number(arg('scale-mult', '1'));
/** suffix for the output files (results<tag>.json/.md, <task><tag>.png) */
const TAG = arg('tag', '');
mkdirSync(OUT, { recursive: true });

const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
const R = manifest.resolution;
const manifestDir = path.dirname(manifestPath);
function modelFile(role: string): string | null {
  const e = manifest.models.find((m) => m.role === role);
  return e ? path.resolve(manifestDir, e.files.fp32.path) : null;
}

// ---------------------------------------------------------------- small image helpers
async function load(file: string): Promise<RgbaImage> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}
async function toPng(img: RgbaImage, w: number, h: number, kernel: 'cubic' | 'nearest' = 'cubic'): Promise<Buffer> {
  const raw = { width: img.width, height: img.height, channels: 4 as const };
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw })
    .resize(w, h, { kernel, fit: 'fill' })
    .png()
    .toBuffer();
}
async function upsampled(img: RgbaImage, size: number): Promise<RgbaImage> {
  const buf = await sharp(await toPng(img, size, size))
    .ensureAlpha()
    .raw()
    .toBuffer();
  return { width: size, height: size, data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length) };
}
/** NIQE at 512 (the paper's size): our 64 px images are bicubic-upsampled first. */
async function niqe512(img: RgbaImage): Promise<number> {
  const u = img.width === 512 ? img : await upsampled(img, 512);
  return niqe(u.data, u.width, u.height, 4);
}
function toTensor(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const t = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) t[c * n + i] = (img.data[i * 4 + c]! / 255) * 2 - 1;
  return t;
}
function fromTensor(t: Float32Array, w: number, h: number): RgbaImage {
  const n = w * h;
  const d = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) d[i * 4 + c] = Math.round(((Math.max(-1, Math.min(1, t[c * n + i]!)) + 1) / 2) * 255);
    d[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data: d };
}

const toModelFrame = (img: RgbaImage, binary = false) => fromFfhq(img, manifest.alignment.template as Point[], R, binary);

// ---------------------------------------------------------------- seeded normal noise
function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(u() + 1e-12)),
        th = 2 * Math.PI * u();
      out[i] = r * Math.cos(th);
      if (i + 1 < n) out[i + 1] = r * Math.sin(th);
    }
    return out;
  };
}

// ---------------------------------------------------------------- ORT sessions (prior sampling, restorer alone, identity)
const sessOpts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: THREADS, interOpNumThreads: 1 };
async function session(role: string): Promise<ort.InferenceSession | null> {
  const f = modelFile(role);
  return f && existsSync(f) ? ort.InferenceSession.create(f, sessOpts) : null;
}

/** Plain DDPM ancestral sampling with the manifest's schedule (linear, fixed-large variance), N evenly spaced steps. */
async function samplePrior(prior: ort.InferenceSession, res: number, steps: number, seed: number): Promise<RgbaImage> {
  const T = manifest.diffusion.steps;
  const betas = Array.from({ length: T }, (_, i) => (1e-4 + ((0.02 - 1e-4) * i) / (T - 1)) * (1000 / T));
  const abarAll: number[] = [];
  betas.reduce((p, b) => {
    const v = p * (1 - b);
    abarAll.push(v);
    return v;
  }, 1);
  const keep = [...new Set(Array.from({ length: steps }, (_, i) => Math.round((i * (T - 1)) / (steps - 1))))].sort((x, y) => x - y);
  const abar = keep.map((k) => abarAll[k]!);
  const prev = abar.map((_, i) => (i === 0 ? 1 : abar[i - 1]!));
  const beta = abar.map((a, i) => 1 - a / prev[i]!);
  const postVar = beta.map((b, i) => (b * (1 - prev[i]!)) / (1 - abar[i]!));
  const varLarge = beta.map((b, i) => (i === 0 ? (postVar[1] ?? b) : b));
  const noise = rng(seed);
  const n = 3 * res * res;
  let x = noise(n);
  for (let i = keep.length - 1; i >= 0; i--) {
    const out = await prior.run({
      x: new ort.Tensor('float32', x, [1, 3, res, res]),
      t: new ort.Tensor('int64', BigInt64Array.from([BigInt(keep[i]!)]), [1]),
    });
    const eps = out.out!.data as Float32Array;
    const a = abar[i]!,
      c1 = (beta[i]! * Math.sqrt(prev[i]!)) / (1 - a),
      c2 = ((1 - prev[i]!) * Math.sqrt(1 - beta[i]!)) / (1 - a);
    const z = i > 0 ? noise(n) : null;
    const sd = Math.sqrt(varLarge[i]!);
    const nx = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const x0 = Math.max(-1, Math.min(1, Math.sqrt(1 / a) * x[k]! - Math.sqrt(1 / a - 1) * eps[k]!));
      nx[k] = c1 * x0 + c2 * x[k]! + (z ? sd * z[k]! : 0);
    }
    x = nx;
  }
  return fromTensor(x, res, res);
}

/** The restorer alone: restorer(x_t = N(0,1), y, t = T-1), i.e. it can only use y (its MMSE estimate). */
async function restorerAlone(rest: ort.InferenceSession, y: RgbaImage): Promise<RgbaImage> {
  const n = 3 * y.width * y.height;
  const dims = [1, 3, y.height, y.width];
  const feeds: Record<string, ort.Tensor> = {
    x_t: new ort.Tensor('float32', rng(99)(n), dims),
    y: new ort.Tensor('float32', toTensor(y), dims),
    t: new ort.Tensor('int64', BigInt64Array.from([BigInt(manifest.diffusion.steps - 1)]), [1]),
  };
  const out = await rest.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => rest.inputNames.includes(k))));
  return fromTensor(out[rest.outputNames[0]!]!.data as Float32Array, y.width, y.height);
}

/** identity is graded by MobileFace loaded on its own (./judge.ts), never by the set's identity network */
let judge: IdentityJudge | null = null;
async function idCos(a: RgbaImage, b: RgbaImage): Promise<number | null> {
  return judge ? judge.cos(a, b) : null;
}

// ---------------------------------------------------------------- the engine
type Restore = (req: RestoreRequest) => Promise<{ images: RgbaImage[]; restorerEstimate?: RgbaImage }>;
let restoreFn: Restore | null = null;
let engineDispose: (() => Promise<void>) | null = null;
async function engine(): Promise<Restore> {
  if (restoreFn) return restoreFn;
  const modPath = path.join(repoRoot, 'cli', 'node-engine.ts');
  type CreateNodeEngine = (o: { models: string; threads?: number }) => Promise<{ restore: Restore; dispose: () => Promise<void> }>;
  const mod = (await import(modPath)) as { createNodeEngine: CreateNodeEngine };
  const e = await mod.createNodeEngine({ models: manifestPath, threads: THREADS });
  restoreFn = (r) => e.restore(r);
  engineDispose = () => e.dispose();
  return restoreFn;
}
async function run(
  task: TaskName,
  image: RgbaImage,
  extra: Partial<RestoreRequest> = {},
  guidance?: GuidanceSettings,
): Promise<{ out: RgbaImage; ms: number; est?: RgbaImage }> {
  const restore = await engine();
  const t0 = Date.now();
  // the set's per-task defaults (what the app and the runner start from), unless --paper-values
  const d = task === 'custom' || PAPER ? undefined : manifest.defaults?.[task];
  const start = withTaskDefaults(guidance ?? presetGuidance(task), { ...defaultSampler(), steps: 100, seed: SEED }, d);
  const g = guidance ? { ...start.guidance, weights: guidance.weights, identityLoss: guidance.identityLoss } : start.guidance;
  const sampler = { ...start.sampler, seed: SEED, ...(STEPS_ARG ? { steps: STEPS } : {}) };
  const res = await restore({ image, guidance: { ...g, scale: g.scale * SCALE_MULT }, sampler, ...extra });
  return { out: res.images[0]!, ms: Date.now() - t0, ...(res.restorerEstimate ? { est: res.restorerEstimate } : {}) };
}

// ---------------------------------------------------------------- output: side-by-side strips and tables
/** How the tasks sampled, for the tables' header: the set's per-task defaults unless --steps or --paper-values. */
function samplingNote(): string {
  if (STEPS_ARG) return `${STEPS} steps for every task`;
  if (PAPER || !manifest.defaults) return "the paper's settings (DDPM 100 steps unless --steps)";
  return "each task's sampler, steps and start from the set's defaults";
}
const TILE_DEFAULT = 128;
async function strip(file: string, header: string[], rows: RgbaImage[][], TILE = TILE_DEFAULT): Promise<void> {
  const cols = Math.max(...rows.map((r) => r.length));
  const W = cols * (TILE + 4) + 4,
    H = rows.length * (TILE + 4) + 4 + 18;
  const comps: OverlayOptions[] = [];
  const svg = `<svg width="${W}" height="18" xmlns="http://www.w3.org/2000/svg">${header
    .map((h, i) => `<text x="${4 + i * (TILE + 4) + 2}" y="13" font-family="sans-serif" font-size="11" fill="#000">${h}</text>`)
    .join('')}</svg>`;
  comps.push({ input: Buffer.from(svg), left: 0, top: 0 });
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < rows[r]!.length; c++) {
      const img = rows[r]![c]!;
      comps.push({
        input: await toPng(img, TILE, TILE, img.width <= R ? 'nearest' : 'cubic'),
        left: 4 + c * (TILE + 4),
        top: 18 + 4 + r * (TILE + 4),
      });
    }
  }
  await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } })
    .composite(comps)
    .png()
    .toFile(path.join(OUT, file.replace(/\.png$/, `${TAG}.png`)));
}
const results: Record<string, unknown> = {
  manifest: path.relative(repoRoot, manifestPath),
  steps: STEPS,
  seed: SEED,
  scaleMult: SCALE_MULT,
  date: new Date().toISOString(),
};
const md: string[] = [];
const f2 = (v: number | null | undefined, d = 2) =>
  v === null || v === undefined || Number.isNaN(v) ? 'n/a' : Number.isFinite(v) ? v.toFixed(d) : 'inf';
const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
function testFiles(folder: string, n: number): string[] {
  return readdirSync(path.join(testdata, folder))
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .slice(0, n);
}
const syn = (kind: string, i: number) => path.join(SYN, `${kind}_${i}.png`);
const haveSyn = existsSync(path.join(SYN, 'list.json'));
const nSyn = haveSyn
  ? Math.min(N_SYN, (JSON.parse(readFileSync(path.join(SYN, 'list.json'), 'utf8')) as { items: unknown[] }).items.length)
  : 0;
const pixels = R * R;

/**
 * Latent sets: unconditional samples through the engine itself (no property on: the prior alone, DDIM, eta 0 unless --sample-eta), against
 * real held-out faces at the same size: NIQE (after the same 2x bicubic) and each image's mean colour, whose range
 * over the real faces says what a colour cast is.
 */
async function latentSamples(): Promise<void> {
  const restore = await engine();
  const steps = Number(arg('sample-steps', '25'));
  // DDIM eta 0 by default; --sample-eta 1 is DDIM's stochastic end (DDPM-like) on the same respaced steps
  const eta = Number(arg('sample-eta', '0'));
  const t0 = Date.now();
  const samples: RgbaImage[] = [];
  for (let i = 0; i < N_SAMPLES; i++) {
    const g: GuidanceSettings = { ...presetGuidance('custom'), weights: {}, scale: 0 };
    const res = await restore({ image: blankFace(), guidance: g, sampler: { kind: 'ddim', eta, steps, seed: 100 + i } });
    samples.push(res.images[0]!);
  }
  const ms = (Date.now() - t0) / N_SAMPLES;
  const real: RgbaImage[] = [];
  if (existsSync(REAL)) {
    for (const f of readdirSync(REAL).sort().slice(0, N_SAMPLES)) {
      const buf = await sharp(path.join(REAL, f)).resize(R, R, { kernel: 'cubic' }).ensureAlpha().raw().toBuffer();
      real.push({ width: R, height: R, data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length) });
    }
  }
  const stats = async (imgs: RgbaImage[]) => {
    const niqes: number[] = [];
    const means: number[][] = [];
    for (const im of imgs) {
      niqes.push(await niqe512(im));
      means.push(colorStats(im.data, pixels, 4).mean);
    }
    return { niqe: mean(niqes), niqes, means };
  };
  const s = await stats(samples);
  const r = real.length ? await stats(real) : null;
  const lo = [0, 1, 2].map((c) => Math.min(...(r?.means ?? []).map((m) => m[c]!)));
  const hi = [0, 1, 2].map((c) => Math.max(...(r?.means ?? []).map((m) => m[c]!)));
  const casts = r ? s.means.filter((m) => m.some((v, c) => v < lo[c]! || v > hi[c]!)).length : null;
  const rows: RgbaImage[][] = [];
  for (let i = 0; i < samples.length; i += 8) rows.push(samples.slice(i, i + 8));
  await strip('samples.png', [`${N_SAMPLES} unconditional samples, ${R}x${R}, DDIM ${steps}, eta ${eta} (the prior alone)`], rows, 96);
  results.samples = {
    count: N_SAMPLES,
    steps,
    eta,
    msPerSample: ms,
    niqeSamples: s.niqe,
    niqeReal: r?.niqe ?? null,
    realCount: real.length,
    meanColourRangeReal: r ? { lo, hi } : null,
    samplesOutsideRealColourRange: casts,
    niqePerSample: s.niqes,
  };
  md.push(
    '### Unconditional samples',
    '',
    `${N_SAMPLES} samples of the prior alone (DDIM ${steps}, eta ${eta}, seeds 100-${99 + N_SAMPLES}), ${(ms / 1000).toFixed(1)} s each (CPU, 1 thread): \`docs/quality/samples.png\`.`,
    '',
    "| | n | mean NIQE (lower better) | images whose mean colour lies outside the real faces' range |",
    '|---|---|---|---|',
    `| samples | ${N_SAMPLES} | ${f2(s.niqe)} | ${casts ?? 'n/a'} |`,
    `| real held-out faces (UTKFace, same size) | ${real.length} | ${f2(r?.niqe)} | 0 (they define the range) |`,
    '',
    `Target (issue 9): mean NIQE within 1.0 of the real faces': ${r && s.niqe !== null && r.niqe !== null ? (Math.abs(s.niqe - r.niqe) <= 1 ? 'met' : 'not met') : 'n/a'}; no colour casts: ${casts === 0 ? 'met' : casts === null ? 'n/a' : `not met (${casts} of ${N_SAMPLES})`}.`,
    '',
  );
}

/** Hasler and Suesstrunk's colourfulness M (2003) of an RGBA image: sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mu_rg^2 + mu_yb^2). */
function colourfulness(img: RgbaImage): number {
  const n = img.width * img.height;
  let srg = 0,
    syb = 0,
    srg2 = 0,
    syb2 = 0;
  for (let i = 0; i < n; i++) {
    const r = img.data[i * 4]!,
      g = img.data[i * 4 + 1]!,
      b = img.data[i * 4 + 2]!;
    const rg = r - g,
      yb = 0.5 * (r + g) - b;
    srg += rg;
    syb += yb;
    srg2 += rg * rg;
    syb2 += yb * yb;
  }
  const mrg = srg / n,
    myb = syb / n;
  return Math.sqrt(Math.max(0, srg2 / n - mrg * mrg) + Math.max(0, syb2 / n - myb * myb)) + 0.3 * Math.hypot(mrg, myb);
}

/** The 10th and 90th percentiles of the real held-out faces' colourfulness (the colorization target's range). */
async function realColourfulnessRange(): Promise<[number, number] | null> {
  if (!existsSync(REAL)) return null;
  const ms: number[] = [];
  for (const f of readdirSync(REAL).sort().slice(0, 200)) {
    const buf = await sharp(path.join(REAL, f)).resize(R, R, { kernel: 'cubic' }).ensureAlpha().raw().toBuffer();
    ms.push(colourfulness({ width: R, height: R, data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length) }));
  }
  ms.sort((a, b) => a - b);
  return [ms[Math.floor(0.1 * (ms.length - 1))]!, ms[Math.floor(0.9 * (ms.length - 1))]!];
}

/** Kept pixels (0 in `hole`) within `r` pixels (box) of a hole pixel. */
function ringAround(hole: number[], size: number, r: number): number[] {
  const ring = new Array<number>(hole.length).fill(0);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (!hole[y * size + x]) continue;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy,
            xx = x + dx;
          if (yy >= 0 && xx >= 0 && yy < size && xx < size && !hole[yy * size + xx]) ring[yy * size + xx] = 1;
        }
    }
  return ring;
}

/** Distance (0-255 RGB) between the mean colour of the hole and that of the ring around it. */
function colourGap(img: RgbaImage, hole: number[], ring: number[]): number {
  const meanOf = (sel: number[]) => {
    const m = [0, 0, 0];
    let n = 0;
    sel.forEach((v, i) => {
      if (!v) return;
      n++;
      for (let c = 0; c < 3; c++) m[c]! += img.data[i * 4 + c]!;
    });
    return m.map((v) => v / Math.max(1, n));
  };
  const a = meanOf(hole),
    b = meanOf(ring);
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

/** A mid-grey face-sized image: unconditional samples ignore the photo, but a request needs one. */
function blankFace(): RgbaImage {
  return { width: R, height: R, data: new Uint8ClampedArray(R * R * 4).fill(128) };
}

async function main(): Promise<void> {
  judge = await createIdentityJudge(THREADS);
  results.identityJudge = judge.model;
  const rest = await session('restorer');
  {
    const bab = await load(path.resolve(repoRoot, '..', 'shared', 'metrics', 'niqe', 'baboon.png'));
    results.niqeBaboon = niqe(bab.data, bab.width, bab.height, 4);
    md.push(`NIQE check: baboon.png gives ${(results.niqeBaboon as number).toFixed(5)} (MATLAB 5.72957, BasicSR 5.72958).`, '');
  }
  md.push(
    `Model set: \`${results.manifest as string}\` (${manifest.name} ${manifest.setVersion}), ${R}x${R}, ${samplingNote()}, seed ${SEED}, guidance scales x${SCALE_MULT} the set's. Identity: cosine of \`${judge.model}\` embeddings (the independent judge; the set guides with \`${manifest.models.find((m) => m.role === 'identity')?.files.fp32.path ?? 'no identity network'}\`).`,
    '',
  );

  if (ONLY.has('samples') && manifest.latent) await latentSamples();
  else if (ONLY.has('samples')) {
    const prior = (await session('prior'))!;
    const t0 = Date.now();
    const s64: RgbaImage[] = [];
    for (let i = 0; i < N_SAMPLES; i++) s64.push(await samplePrior(prior, R, STEPS, 100 + i));
    const ms64 = (Date.now() - t0) / N_SAMPLES;
    const half = Math.ceil(N_SAMPLES / 2);
    await strip('samples.png', [`${N_SAMPLES} unconditional samples, ${R}x${R}, DDPM ${STEPS}`], [s64.slice(0, half), s64.slice(half)]);
    const big: RgbaImage[] = [];
    for (let i = 0; i < 2; i++) big.push(await samplePrior(prior, 2 * R, STEPS, 200 + i));
    const big4: RgbaImage[] = [await samplePrior(prior, 4 * R, STEPS, 300)];
    await strip('samples-larger.png', [`${2 * R}x${2 * R}`, '', `${4 * R}x${4 * R}`], [[...big, ...big4]]);
    results.samples = { count: N_SAMPLES, msPerSample: ms64, larger: [`2 at ${2 * R}`, `1 at ${4 * R}`] };
    md.push(
      `Unconditional samples: ${N_SAMPLES} at ${R}x${R}, ${(ms64 / 1000).toFixed(1)} s each (CPU, 1 thread, shared machine): \`docs/quality/samples.png\`; the same prior run at ${2 * R} and ${4 * R} (fully convolutional, larger than trained): \`docs/quality/samples-larger.png\`.`,
      '',
    );
  }

  if (ONLY.has('blind')) {
    const rows: RgbaImage[][] = [];
    const rec: Record<string, unknown>[] = [];
    for (const f of testFiles('cropped_faces', N_TEST)) {
      const orig = await load(path.join(testdata, 'cropped_faces', f));
      const y = toModelFrame(orig);
      const ra = rest ? await restorerAlone(rest, y) : null;
      const o = await run('blind', y);
      rec.push({
        src: `testdata/cropped_faces/${f}`,
        niqeInput512: await niqe512(orig),
        niqeInput: await niqe512(y),
        niqeRestorer: ra ? await niqe512(ra) : null,
        niqeOurs: await niqe512(o.out),
        ms: o.ms,
      });
      rows.push([y, ...(ra ? [ra] : []), o.out]);
    }
    for (let i = 0; i < nSyn; i++) {
      const gt = await load(syn('gt', i));
      const y = await load(syn('blind', i));
      const ra = rest ? await restorerAlone(rest, y) : null;
      const o = await run('blind', y);
      rec.push({
        src: `heldout/blind_${i}`,
        niqeInput: await niqe512(y),
        niqeRestorer: ra ? await niqe512(ra) : null,
        niqeOurs: await niqe512(o.out),
        psnrInput: psnr(y.data, gt.data, pixels, { channels: 4 }),
        psnrRestorer: ra ? psnr(ra.data, gt.data, pixels, { channels: 4 }) : null,
        psnrOurs: psnr(o.out.data, gt.data, pixels, { channels: 4 }),
        idInput: await idCos(y, gt),
        idRestorer: ra ? await idCos(ra, gt) : null,
        idOurs: await idCos(o.out, gt),
        ms: o.ms,
      });
      rows.push([y, ...(ra ? [ra] : []), o.out, gt]);
    }
    await strip('blind.png', ['input', 'restorer alone', 'ours (PGDiff)', 'ground truth'], rows);
    results.blind = rec;
    const real = rec.filter((r) => String(r.src).startsWith('testdata'));
    const held = rec.filter((r) => String(r.src).startsWith('heldout'));
    const m = (rs: Record<string, unknown>[], k: string) => mean(rs.map((r) => r[k] as number | null));
    md.push(
      '### Blind restoration',
      '',
      '| inputs | n | NIQE input (512 original) | NIQE input | NIQE restorer alone | NIQE ours | PSNR in / restorer / ours (dB) | identity cos to GT: input / restorer / ours |',
      '|---|---|---|---|---|---|---|---|',
      `| testdata/cropped_faces | ${real.length} | ${f2(m(real, 'niqeInput512'))} | ${f2(m(real, 'niqeInput'))} | ${f2(m(real, 'niqeRestorer'))} | ${f2(m(real, 'niqeOurs'))} | (no ground truth) | (no ground truth) |`,
      `| held-out UTKFace, synthetic | ${held.length} | - | ${f2(m(held, 'niqeInput'))} | ${f2(m(held, 'niqeRestorer'))} | ${f2(m(held, 'niqeOurs'))} | ${f2(m(held, 'psnrInput'))} / ${f2(m(held, 'psnrRestorer'))} / ${f2(m(held, 'psnrOurs'))} | ${f2(m(held, 'idInput'), 3)} / ${f2(m(held, 'idRestorer'), 3)} / ${f2(m(held, 'idOurs'), 3)} |`,
      '',
      `NIQE of ${R}x${R} images is taken after a bicubic upsampling to 512 (NIQE needs 96x96 blocks); "512 original" is the real input before re-framing. Images: \`docs/quality/blind.png\`.`,
      '',
    );
  }

  if (ONLY.has('inpainting')) {
    const rows: RgbaImage[][] = [];
    const rec: Record<string, unknown>[] = [];
    const cases: { y: RgbaImage; mask: RgbaImage; gt?: RgbaImage; src: string }[] = [];
    for (const f of testFiles('masked_faces', N_TEST)) {
      const mf = readdirSync(path.join(testdata, 'append_masks')).find((m) => path.parse(m).name === path.parse(f).name);
      if (!mf) continue;
      cases.push({
        y: toModelFrame(await load(path.join(testdata, 'masked_faces', f))),
        mask: toModelFrame(await load(path.join(testdata, 'append_masks', mf)), true),
        src: `testdata/masked_faces/${f}`,
      });
    }
    for (let i = 0; i < nSyn; i++)
      cases.push({
        y: await load(syn('inpaint', i)),
        mask: await load(syn('inpaint_mask', i)),
        gt: await load(syn('gt', i)),
        src: `heldout/inpaint_${i}`,
      });
    for (const c of cases) {
      const o = await run('inpainting', c.y, { mask: c.mask });
      // the same run without the final blend: how well the sampler (guidance and latent blending) kept the unmasked
      // pixels, and with guidance alone
      const raw = await run('inpainting', c.y, { mask: c.mask, keepUnmasked: false, blendLatents: true });
      const guidanceOnly = await run('inpainting', c.y, { mask: c.mask, keepUnmasked: false, blendLatents: false });
      const keep = Array.from({ length: pixels }, (_, i) => (c.mask.data[i * 4]! > 0 ? 0 : 1));
      const hole = keep.map((k) => 1 - k);
      const ring = ringAround(hole, R, 8);
      rec.push({
        src: c.src,
        maskedFraction: hole.reduce((a, b) => a + b, 0) / pixels,
        psnrUnmasked: psnr(o.out.data, c.y.data, pixels, { channels: 4, include: keep }),
        psnrUnmaskedBeforeBlend: psnr(raw.out.data, c.y.data, pixels, { channels: 4, include: keep }),
        psnrUnmaskedGuidanceOnly: psnr(guidanceOnly.out.data, c.y.data, pixels, { channels: 4, include: keep }),
        psnrHoleToGt: c.gt ? psnr(o.out.data, c.gt.data, pixels, { channels: 4, include: hole }) : null,
        ms: o.ms,
        colourGapOurs: colourGap(o.out, hole, ring),
        colourGapTruth: c.gt ? colourGap(c.gt, hole, ring) : null,
        idInput: c.gt ? await idCos(c.y, c.gt) : null,
        idOurs: c.gt ? await idCos(o.out, c.gt) : null,
      });
      rows.push([c.y, c.mask, o.out, ...(c.gt ? [c.gt] : [])]);
    }
    await strip('inpainting.png', ['input', 'mask', 'ours', 'ground truth'], rows);
    results.inpainting = rec;
    md.push(
      '### Inpainting',
      '',
      '| case | masked % | PSNR unmasked vs input, before the final blend (dB) | >= 30 dB? | guidance alone, no latent blending | after the blend | PSNR in the hole vs truth (dB) | colour gap hole-ring: ours / truth | identity cos to truth: input / ours |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rec.map(
        (r) =>
          `| ${r.src as string} | ${f2((r.maskedFraction as number) * 100, 1)} | ${f2(r.psnrUnmaskedBeforeBlend as number)} | ${(r.psnrUnmaskedBeforeBlend as number) >= 30 ? 'yes' : 'no'} | ${f2(r.psnrUnmaskedGuidanceOnly as number)} | ${f2(r.psnrUnmasked as number)} | ${f2(r.psnrHoleToGt as number | null)} | ${f2(r.colourGapOurs as number, 1)} / ${f2(r.colourGapTruth as number | null, 1)} | ${f2(r.idInput as number | null, 3)} / ${f2(r.idOurs as number | null, 3)} |`,
      ),
      '',
      "Colour gap: distance (0-255 RGB) between the mean colour inside the hole and the mean colour of the kept pixels within 8 px of it; the truth's own gap says what a consistent fill looks like. Images: `docs/quality/inpainting.png`.",
      '',
    );
  }

  if (ONLY.has('colorization')) {
    const rows: RgbaImage[][] = [];
    const rec: Record<string, unknown>[] = [];
    const style = COLOR_STYLES[0]!;
    const cases: { y: RgbaImage; gt?: RgbaImage; src: string }[] = [];
    for (const f of testFiles('grayscale_faces', N_TEST))
      cases.push({ y: toModelFrame(await load(path.join(testdata, 'grayscale_faces', f))), src: `testdata/grayscale_faces/${f}` });
    for (let i = 0; i < nSyn; i++) cases.push({ y: await load(syn('grey', i)), gt: await load(syn('gt', i)), src: `heldout/grey_${i}` });
    const statErr = (img: RgbaImage) => {
      const s = colorStats(img.data, pixels, 4);
      return {
        mean: s.mean,
        std: s.std,
        meanAbsErrMean: mean(s.mean.map((v, c) => Math.abs(v - style.mean[c]!))),
        meanAbsErrStd: mean(s.std.map((v, c) => Math.abs(v - style.std[c]!))),
      };
    };
    for (const c of cases) {
      const o = await run('colorization', c.y);
      rec.push({
        src: c.src,
        psnrLightness: psnr(o.out.data, c.y.data, pixels, { channels: 4, lightness: true }),
        statsInput: statErr(c.y),
        statsOurs: statErr(o.out),
        psnrToGt: c.gt ? psnr(o.out.data, c.gt.data, pixels, { channels: 4 }) : null,
        psnrInputToGt: c.gt ? psnr(c.y.data, c.gt.data, pixels, { channels: 4 }) : null,
        colourfulness: colourfulness(o.out),
        ms: o.ms,
      });
      rows.push([c.y, o.out, ...(c.gt ? [c.gt] : [])]);
    }
    await strip('colorization.png', ['input', 'ours', 'ground truth'], rows);
    results.colorization = rec;
    type S = { meanAbsErrMean: number; meanAbsErrStd: number };
    md.push(
      '### Colorization (style 0)',
      '',
      '| case | PSNR lightness vs input (dB) | colour mean abs err to style: input / ours | colour std abs err: input / ours | PSNR to ground truth: grey input / ours |',
      '|---|---|---|---|---|',
      ...rec.map(
        (r) =>
          `| ${r.src as string} | ${f2(r.psnrLightness as number)} | ${f2((r.statsInput as S).meanAbsErrMean, 3)} / ${f2((r.statsOurs as S).meanAbsErrMean, 3)} | ${f2((r.statsInput as S).meanAbsErrStd, 3)} / ${f2((r.statsOurs as S).meanAbsErrStd, 3)} | ${f2(r.psnrInputToGt as number | null)} / ${f2(r.psnrToGt as number | null)} |`,
      ),
      '',
      'Images: `docs/quality/colorization.png`.',
      '',
    );
    const range = await realColourfulnessRange();
    const within = (m: number) => !!range && m >= range[0] && m <= range[1];
    const inside = range ? rec.filter((r) => within(r.colourfulness as number)).length : null;
    results.colourfulnessRealP10P90 = range;
    md.push(
      `Colourfulness (Hasler and Suesstrunk) of ours: ${rec.map((r) => f2(r.colourfulness as number, 1)).join(', ')}; real held-out faces' 10-90th percentiles: ${range ? `${f2(range[0], 1)}-${f2(range[1], 1)}` : 'n/a'}; inside: ${inside ?? 'n/a'} of ${rec.length}.`,
      '',
    );
  }

  if (ONLY.has('reference')) {
    const rec: Record<string, unknown>[] = [];
    const rows: RgbaImage[][] = [];
    if (!manifest.models.some((m) => m.role === 'identity') || !manifest.models.some((m) => m.role === 'identity-vjp')) {
      md.push('### Reference-based restoration', '', 'Not measured: the model set has no identity / identity-vjp network.', '');
    } else if (guidesWithJudge(manifest, manifestDir)) {
      // a network never grades its own guidance
      md.push(
        '### Reference-based restoration',
        '',
        `Not measured: the model set guides identity with the judge's own network (${judge.model}); its identity gains would not be evidence.`,
        '',
      );
    } else {
      for (const f of testFiles('ref_cropped_faces', N_TEST)) {
        const rf = readdirSync(path.join(testdata, 'ref_faces')).find((m) => path.parse(m).name === path.parse(f).name);
        if (!rf) continue;
        const y = toModelFrame(await load(path.join(testdata, 'ref_cropped_faces', f)));
        const ref = toModelFrame(await load(path.join(testdata, 'ref_faces', rf)));
        const withId = await run('reference', y, { references: [ref] });
        const cosG: GuidanceSettings = {
          ...presetGuidance('reference'),
          identityLoss: 'cosine',
          weights: { smooth: 1, identity: IDENTITY_COSINE_WEIGHT },
        };
        const withCos = await run('reference', y, { references: [ref] }, cosG);
        const noId = await run('blind', y);
        rec.push({
          src: `testdata/ref_cropped_faces/${f}`,
          idInput: await idCos(y, ref),
          idWith: await idCos(withId.out, ref),
          idWithCos: await idCos(withCos.out, ref),
          idWithout: await idCos(noId.out, ref),
          ms: withId.ms,
          niqeWithout: await niqe512(noId.out),
          niqeWith: await niqe512(withId.out),
        });
        rows.push([y, ref, noId.out, withId.out, withCos.out]);
      }
      // the mse weight the run used: the set's default for the task, else the paper's
      const idW = (PAPER ? undefined : manifest.defaults?.reference?.weights?.identity) ?? presetGuidance('reference').weights.identity;
      await strip('reference.png', ['input', 'reference', 'no identity', `identity mse ${idW}`, 'identity cos 1e4'], rows);
      md.push(
        '### Reference-based restoration',
        '',
        `| case | identity cos to reference: input | without identity term | with identity term (mse, weight ${idW}) | with identity term (-cos, weight 1e4) | NIQE without / with (mse) |`,
        '|---|---|---|---|---|---|',
        ...rec.map(
          (r) =>
            `| ${r.src as string} | ${f2(r.idInput as number, 3)} | ${f2(r.idWithout as number, 3)} | ${f2(r.idWith as number, 3)} | ${f2(r.idWithCos as number, 3)} | ${f2(r.niqeWithout as number)} / ${f2(r.niqeWith as number)} |`,
        ),
        '',
        'Images: `docs/quality/reference.png`.',
        '',
      );
    }
    results.reference = rec;
  }

  if (ONLY.has('old-photo')) {
    const rows: RgbaImage[][] = [];
    const rec: Record<string, unknown>[] = [];
    const cases: { y: RgbaImage; mask?: RgbaImage; gt?: RgbaImage; src: string }[] = [];
    for (const f of testFiles('old_photos/med', 1))
      cases.push({ y: toModelFrame(await load(path.join(testdata, 'old_photos/med', f))), src: `testdata/old_photos/med/${f}` });
    for (const f of testFiles('old_photos/med_scratch', 1)) {
      const mf = readdirSync(path.join(testdata, 'old_photos/scratch_masks')).find((m) => path.parse(m).name === path.parse(f).name);
      const y = toModelFrame(await load(path.join(testdata, 'old_photos/med_scratch', f)));
      cases.push({ y, src: `testdata/old_photos/med_scratch/${f} (no mask)` });
      if (mf)
        cases.push({
          y,
          mask: toModelFrame(await load(path.join(testdata, 'old_photos/scratch_masks', mf)), true),
          src: `testdata/old_photos/med_scratch/${f} (mask)`,
        });
    }
    for (let i = 0; i < Math.min(N_OLD_SYN, nSyn); i++) {
      const gt = await load(syn('gt', i));
      cases.push({ y: await load(syn('old', i)), gt, src: `heldout/old_${i}` });
      const ys = await load(syn('oldscr', i));
      cases.push({ y: ys, gt, src: `heldout/oldscr_${i} (no mask)` });
      cases.push({ y: ys, mask: await load(syn('oldscr_mask', i)), gt, src: `heldout/oldscr_${i} (mask)` });
    }
    for (const c of cases) {
      const o = await run('old-photo', c.y, c.mask ? { mask: c.mask } : {});
      rec.push({
        src: c.src,
        niqeInput: await niqe512(c.y),
        niqeOurs: await niqe512(o.out),
        psnrInputToGt: c.gt ? psnr(c.y.data, c.gt.data, pixels, { channels: 4 }) : null,
        psnrOursToGt: c.gt ? psnr(o.out.data, c.gt.data, pixels, { channels: 4 }) : null,
        idInput: c.gt ? await idCos(c.y, c.gt) : null,
        idOurs: c.gt ? await idCos(o.out, c.gt) : null,
        ms: o.ms,
      });
      rows.push([c.y, c.mask ?? fromTensor(new Float32Array(3 * pixels).fill(-1), R, R), o.out, ...(c.gt ? [c.gt] : [])]);
    }
    await strip('old-photo.png', ['input', 'scratch mask', 'ours', 'ground truth'], rows);
    results.oldPhoto = rec;
    md.push(
      '### Old photos',
      '',
      '| case | NIQE input | NIQE ours | PSNR to ground truth: input / ours (dB) | identity cos to ground truth: input / ours |',
      '|---|---|---|---|---|',
      ...rec.map(
        (r) =>
          `| ${r.src as string} | ${f2(r.niqeInput as number)} | ${f2(r.niqeOurs as number)} | ${f2(r.psnrInputToGt as number | null)} / ${f2(r.psnrOursToGt as number | null)} | ${f2(r.idInput as number | null, 3)} / ${f2(r.idOurs as number | null, 3)} |`,
      ),
      '',
      'Images: `docs/quality/old-photo.png`.',
      '',
    );
  }

  writeFileSync(path.join(OUT, `results${TAG}.json`), JSON.stringify(results, null, 1));
  writeFileSync(path.join(OUT, `results${TAG}.md`), md.join('\n') + '\n');
  console.log(md.join('\n'));
  if (engineDispose) await engineDispose();
}

await main();
