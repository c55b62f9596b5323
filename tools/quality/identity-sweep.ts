/**
 * Identity-weight sweep of the reference task: how strongly the set's identity network should guide. Runs the
 * reference task through the real engine (cli/node-engine.ts) at the set's other defaults (manifest `defaults.reference`:
 * start, scale, sampler, steps, N) for each identity loss and weight, on the real pairs of ../shared/testdata
 * (degraded `ref_cropped_faces/X`, reference `ref_faces/X`, re-framed into the set's framing as tools/quality/run.ts
 * does), and measures what an independent judge sees: MobileFace cosine to the reference (./judge.ts; the set guides
 * with another network) and NIQE (at 512, as run.ts). The guiding network's own cosine is listed too, to show how
 * much of its gain the judge confirms.
 *
 *   npx tsx tools/quality/identity-sweep.ts [--models public/models/pgdiff-utk-latent/manifest.json] [--faces 3]
 *        [--mse 0,1,2.5,5,10,20] [--cosine 10,100,1e4] [--threads 1] [--seed 1] [--out .data/identity-sweep]
 *
 * Writes <out>/sweep.json (every number, rewritten after each run), <out>/sweep.md (per-face and mean tables) and one
 * strip per face, <out>/<face>.png (input, reference, then each setting).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp, { type OverlayOptions } from 'sharp';
import type { GuidanceSettings, RgbaImage } from '../../workers/api';
import type { Point } from '../../workers/faces/templates';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { defaultSampler, presetGuidance, withTaskDefaults } from '../../workers/shared/presets';
import { createNodeEngine } from '../../cli/node-engine';
import { fromFfhq } from './frame';
import { assertIndependent, createIdentityJudge } from './judge';
import { toIdentityInput } from './metrics/identity';
import { niqe } from './metrics/niqe';
import { cosine } from './metrics/psnr';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const testdata = path.resolve(repoRoot, '..', 'shared', 'testdata');
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const list = (s: string) => (s ? s.split(',').map(Number) : []);
const manifestPath = path.resolve(arg('models', path.join(repoRoot, 'public/models/pgdiff-utk-latent/manifest.json')));
const N_FACES = Number(arg('faces', '3'));
const MSE = list(arg('mse', '0,1,2.5,5,10,20'));
const COS = list(arg('cosine', '10,100,1e4'));
const THREADS = Number(arg('threads', '1'));
const SEED = Number(arg('seed', '1'));
const OUT = path.resolve(arg('out', path.join(repoRoot, '.data/identity-sweep')));
mkdirSync(OUT, { recursive: true });

const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
const manifestDir = path.dirname(manifestPath);
const R = manifest.resolution;

async function load(file: string): Promise<RgbaImage> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}
const png = (img: RgbaImage, size: number, kernel: 'cubic' | 'nearest' = 'cubic') =>
  sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(size, size, { kernel, fit: 'fill' })
    .png()
    .toBuffer();
/** NIQE at 512 (the paper's size), as tools/quality/run.ts: smaller images are bicubic-upsampled first */
async function niqe512(img: RgbaImage): Promise<number> {
  if (img.width === 512) return niqe(img.data, 512, 512, 4);
  const buf = await sharp(await png(img, 512))
    .ensureAlpha()
    .raw()
    .toBuffer();
  return niqe(new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length), 512, 512, 4);
}

interface Setting {
  loss: 'mse' | 'cosine';
  weight: number;
}
const settings: Setting[] = [
  ...MSE.map((weight) => ({ loss: 'mse' as const, weight })),
  ...COS.map((weight) => ({ loss: 'cosine' as const, weight })),
];
const label = (s: Setting) => (s.weight === 0 ? 'no identity' : `${s.loss} ${s.weight}`);

async function main(): Promise<void> {
  assertIndependent(manifest, manifestDir);
  const judge = await createIdentityJudge(THREADS);
  const guideEntry = manifest.models.find((m) => m.role === 'identity');
  if (!guideEntry || !manifest.models.some((m) => m.role === 'identity-vjp')) throw new Error(`${manifestPath}: no identity network`);
  const guideFile = path.resolve(manifestDir, guideEntry.files.fp32.path);
  const guide = await ort.InferenceSession.create(guideFile, { executionProviders: ['cpu'], intraOpNumThreads: THREADS });
  const gSize = Number(guideEntry.inputs[0]?.shape[2] ?? 112);
  const guideEmbed = async (img: RgbaImage) => {
    const out = await guide.run({
      [guide.inputNames[0]!]: new ort.Tensor('float32', toIdentityInput(img.data, img.width, img.height, 4, gSize), [1, 3, gSize, gSize]),
    });
    return out[guide.outputNames[0]!]!.data as Float32Array;
  };
  const guideCos = async (a: RgbaImage, b: RgbaImage) => cosine(await guideEmbed(a), await guideEmbed(b));

  const engine = await createNodeEngine({ models: manifestPath, threads: THREADS });
  const d = manifest.defaults?.reference;
  const base = withTaskDefaults(presetGuidance('reference'), { ...defaultSampler(), seed: SEED }, d);
  const files = readdirSync(path.join(testdata, 'ref_cropped_faces'))
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .slice(0, N_FACES);
  const template = manifest.alignment.template as Point[];
  const rows: Record<string, unknown>[] = [];
  const meta = {
    manifest: path.relative(repoRoot, manifestPath),
    guide: guideEntry.files.fp32.path,
    judge: judge.model,
    defaults: d ?? null,
    sampler: base.sampler,
    scale: base.guidance.scale,
    update: base.guidance.update,
    gradSteps: base.guidance.gradSteps,
  };
  const save = () => writeFileSync(path.join(OUT, 'sweep.json'), `${JSON.stringify({ ...meta, rows }, null, 1)}\n`);
  for (const f of files) {
    const stem = path.parse(f).name;
    const rf = readdirSync(path.join(testdata, 'ref_faces')).find((m) => path.parse(m).name === stem);
    if (!rf) continue;
    const y = fromFfhq(await load(path.join(testdata, 'ref_cropped_faces', f)), template, R);
    const ref = fromFfhq(await load(path.join(testdata, 'ref_faces', rf)), template, R);
    const tiles: { img: RgbaImage; text: string }[] = [
      { img: y, text: `input ${(await judge.cos(y, ref)).toFixed(2)}` },
      { img: ref, text: 'reference' },
    ];
    rows.push({
      face: stem,
      setting: 'input',
      judgeCos: await judge.cos(y, ref),
      guideCos: await guideCos(y, ref),
      niqe: await niqe512(y),
    });
    for (const s of settings) {
      const guidance: GuidanceSettings = {
        ...base.guidance,
        identityLoss: s.loss,
        weights: { ...base.guidance.weights, identity: s.weight },
      };
      const t0 = Date.now();
      const res = await engine.restore({ image: y, references: [ref], guidance, sampler: { ...base.sampler, seed: SEED } });
      const ms = Date.now() - t0;
      const out = res.images[0]!;
      const row = {
        face: stem,
        setting: label(s),
        loss: s.loss,
        weight: s.weight,
        judgeCos: await judge.cos(out, ref),
        guideCos: await guideCos(out, ref),
        niqe: await niqe512(out),
        ms,
      };
      rows.push(row);
      save();
      await sharp(await png(out, R)).toFile(path.join(OUT, `${stem}-${label(s).replace(/ /g, '-')}.png`));
      tiles.push({ img: out, text: `${label(s)}: ${row.judgeCos.toFixed(2)}` });
      console.log(
        `${stem} ${label(s)}: MobileFace ${row.judgeCos.toFixed(3)}, guide ${row.guideCos.toFixed(3)}, NIQE ${row.niqe.toFixed(2)} (${(ms / 1000).toFixed(1)} s)`,
      );
    }
    await strip(path.join(OUT, `${stem}.png`), tiles);
  }
  save();
  writeFileSync(path.join(OUT, 'sweep.md'), table(rows, meta));
  await engine.dispose();
  await judge.release();
  await guide.release();
}

async function strip(file: string, tiles: { img: RgbaImage; text: string }[], T = 192): Promise<void> {
  const W = tiles.length * (T + 4) + 4;
  const comps: OverlayOptions[] = [
    {
      input: Buffer.from(
        `<svg width="${W}" height="18" xmlns="http://www.w3.org/2000/svg">${tiles
          .map((t, i) => `<text x="${4 + i * (T + 4) + 2}" y="13" font-family="sans-serif" font-size="11" fill="#000">${t.text}</text>`)
          .join('')}</svg>`,
      ),
      left: 0,
      top: 0,
    },
  ];
  for (const [i, t] of tiles.entries()) comps.push({ input: await png(t.img, T), left: 4 + i * (T + 4), top: 22 });
  await sharp({ create: { width: W, height: T + 26, channels: 3, background: '#ffffff' } })
    .composite(comps)
    .png()
    .toFile(file);
}

function table(rows: Record<string, unknown>[], meta: Record<string, unknown>): string {
  const faces = [...new Set(rows.map((r) => r.face as string))];
  const names = [...new Set(rows.map((r) => r.setting as string))];
  const cell = (face: string, name: string) => rows.find((r) => r.face === face && r.setting === name);
  const avg = (name: string, k: string) => {
    const v = rows.filter((r) => r.setting === name).map((r) => r[k] as number);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const lines = [
    `Reference task, ${meta.manifest as string}: guide \`${meta.guide as string}\`, judge \`${meta.judge as string}\`; the set's reference defaults otherwise (${JSON.stringify(meta.sampler)}, scale ${meta.scale as number}).`,
    '',
    `| setting | ${faces.map((f) => `${f}: MobileFace / guide / NIQE`).join(' | ')} | mean MobileFace | mean guide | mean NIQE |`,
    `|---|${faces.map(() => '---|').join('')}---|---|---|`,
    ...names.map(
      (n) =>
        `| ${n} | ${faces
          .map((f) => {
            const r = cell(f, n);
            return r
              ? `${(r.judgeCos as number).toFixed(3)} / ${(r.guideCos as number).toFixed(3)} / ${(r.niqe as number).toFixed(2)}`
              : '-';
          })
          .join(' | ')} | ${avg(n, 'judgeCos').toFixed(3)} | ${avg(n, 'guideCos').toFixed(3)} | ${avg(n, 'niqe').toFixed(2)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
