/**
 * The PGDiff update rules in latent space, compared on held-out faces (issue 8, "known risk"): inpainting and
 * colorization through the real engine with a latent model set, each rule at a few scales, judged on images and
 * numbers. Needs the held-out faces encoded by tools/train/encode_latents.py (.data/lat256/img_val_000.npy).
 *
 *   npx tsx tools/quality/latent-rules.ts [--models .data/set-latent-try] [--faces 2] [--steps 25] [--threads 2]
 *
 * Writes docs/quality/latent-rules.md (table) and docs/quality/latent-rules-<task>.png (rows: faces; columns:
 * input, each rule/scale, truth).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { GuidanceSettings, RgbaImage, UpdateRule } from '../../workers/api';
import { presetGuidance } from '../../workers/shared/presets';
import { psnr } from './metrics/psnr';
import { createNodeEngine } from '../../cli/node-engine';
import { readNpy } from '../convert/npy';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const MODELS = path.resolve(arg('models', path.join(repoRoot, '.data/set-latent-try')));
const N_FACES = Number(arg('faces', '2'));
const STEPS = Number(arg('steps', '25'));
const THREADS = Number(arg('threads', '2'));
const OUT = path.join(repoRoot, 'docs/quality');

function faces(n: number): RgbaImage[] {
  const a = readNpy(path.join(repoRoot, '.data/lat256/img_val_000.npy'));
  const [, c, h, w] = a.shape as [number, number, number, number];
  const u8 = a.data as Uint8Array;
  const out: RgbaImage[] = [];
  // spread over the held-out split
  for (let k = 0; k < n; k++) {
    const idx = Math.floor((k * a.shape[0]!) / n) + 7;
    const data = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      for (let ch = 0; ch < c; ch++) data[i * 4 + ch] = u8[idx * c * h * w + ch * h * w + i]!;
      data[i * 4 + 3] = 255;
    }
    out.push({ width: w, height: h, data });
  }
  return out;
}

/** A box over nose and mouth (white = missing), the hole a user would paint over damage there. */
function boxMask(s: number): RgbaImage {
  const data = new Uint8ClampedArray(s * s * 4);
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      const m = x >= s * 0.3 && x < s * 0.7 && y >= s * 0.5 && y < s * 0.85 ? 255 : 0;
      data.set([m, m, m, 255], (y * s + x) * 4);
    }
  return { width: s, height: s, data };
}

function grey(img: RgbaImage): RgbaImage {
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < img.width * img.height; i++) {
    const g = Math.round((img.data[i * 4]! + img.data[i * 4 + 1]! + img.data[i * 4 + 2]!) / 3);
    data.set([g, g, g, 255], i * 4);
  }
  return { width: img.width, height: img.height, data };
}

/** 1 for the pixels inside (or outside) the mask, as the PSNR's include weights */
function region(mask: RgbaImage, inside: boolean): Float32Array {
  const w = new Float32Array(mask.width * mask.height);
  for (let i = 0; i < w.length; i++) w[i] = mask.data[i * 4]! > 0 === inside ? 1 : 0;
  return w;
}

function pixelPsnr(a: RgbaImage, b: RgbaImage, opts: { include?: Float32Array; lightness?: boolean } = {}): number {
  return psnr(a.data, b.data, a.width * a.height, { channels: 4, ...opts });
}

async function strip(file: string, rows: RgbaImage[][]): Promise<void> {
  const s = rows[0]![0]!.width;
  const cols = rows[0]!.length;
  const pad = 4;
  const parts: OverlayOptions[] = [];
  for (const [r, row] of rows.entries())
    for (const [c, img] of row.entries()) {
      const input = await sharp(Buffer.from(img.data), { raw: { width: s, height: s, channels: 4 } })
        .png()
        .toBuffer();
      parts.push({ input, left: pad + c * (s + pad), top: pad + r * (s + pad) });
    }
  await sharp({ create: { width: pad + cols * (s + pad), height: pad + rows.length * (s + pad), channels: 4, background: '#ffffff' } })
    .composite(parts)
    .png()
    .toFile(file);
}

interface Variant {
  label: string;
  update: UpdateRule;
  scale: number;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const ne = await createNodeEngine({ models: MODELS, threads: THREADS });
  const imgs = faces(N_FACES);
  const S = imgs[0]!.width;
  const mask = boxMask(S);
  const lines: string[] = [`Model set: ${ne.info.name} ${ne.info.version}; ${STEPS} DDPM steps, seed 1, ${N_FACES} held-out faces.`, ''];
  const run = async (g: GuidanceSettings, image: RgbaImage, extra: { mask?: RgbaImage } = {}) =>
    (await ne.restore({ image, guidance: g, sampler: { kind: 'ddpm', steps: STEPS, seed: 1 }, keepUnmasked: false, ...extra })).images[0]!;

  const inpaint: Variant[] = [
    { label: 'dynamic-global s=0.01 (spec)', update: 'dynamic-global', scale: 0.01 },
    { label: 'dynamic-global s=0.1', update: 'dynamic-global', scale: 0.1 },
    { label: 'dynamic-global s=0.5', update: 'dynamic-global', scale: 0.5 },
    { label: 'dynamic-channel s=0.1', update: 'dynamic-channel', scale: 0.1 },
    { label: 'mean-shift s=0.01', update: 'mean-shift', scale: 0.01 },
    { label: 'mean-shift s=0.1', update: 'mean-shift', scale: 0.1 },
  ];
  lines.push(
    '### Inpainting (box over nose and mouth)',
    '',
    '| rule | PSNR outside the mask (before the blend) | PSNR inside the hole vs truth |',
    '|---|---|---|',
  );
  const rowsI: RgbaImage[][] = imgs.map((im) => {
    const masked = { width: S, height: S, data: Uint8ClampedArray.from(im.data) };
    for (let i = 0; i < S * S; i++) if (mask.data[i * 4]! > 0) masked.data.set([255, 255, 255, 255], i * 4);
    return [masked];
  });
  for (const v of inpaint) {
    const g: GuidanceSettings = { ...presetGuidance('inpainting'), update: v.update, scale: v.scale };
    const out: number[][] = [];
    for (const [k, im] of imgs.entries()) {
      const r = await run(g, im, { mask });
      rowsI[k]!.push(r);
      out.push([pixelPsnr(r, im, { include: region(mask, false) }), pixelPsnr(r, im, { include: region(mask, true) })]);
      process.stderr.write(
        `inpainting ${v.label} face ${k}: ${out
          .at(-1)!
          .map((x) => x.toFixed(2))
          .join(' / ')} dB\n`,
      );
    }
    const mean = (j: number) => out.reduce((a, o) => a + o[j]!, 0) / out.length;
    lines.push(`| ${v.label} | ${mean(0).toFixed(2)} dB | ${mean(1).toFixed(2)} dB |`);
  }
  imgs.forEach((im, k) => rowsI[k]!.push(im));
  await strip(path.join(OUT, 'latent-rules-inpainting.png'), rowsI);

  const color: Variant[] = [
    { label: 'dynamic-channel s=0.01 (spec)', update: 'dynamic-channel', scale: 0.01 },
    { label: 'dynamic-channel s=0.1', update: 'dynamic-channel', scale: 0.1 },
    { label: 'dynamic-global s=0.1', update: 'dynamic-global', scale: 0.1 },
    { label: 'mean-shift s=0.1', update: 'mean-shift', scale: 0.1 },
  ];
  lines.push('', '### Colorization (grey input)', '', '| rule | lightness PSNR vs input | PSNR vs truth (colour) |', '|---|---|---|');
  const rowsC: RgbaImage[][] = imgs.map((im) => [grey(im)]);
  for (const v of color) {
    const g: GuidanceSettings = { ...presetGuidance('colorization'), update: v.update, scale: v.scale };
    const out: number[][] = [];
    for (const [k, im] of imgs.entries()) {
      const r = await run(g, grey(im));
      rowsC[k]!.push(r);
      out.push([pixelPsnr(r, im, { lightness: true }), pixelPsnr(r, im)]);
      process.stderr.write(
        `colorization ${v.label} face ${k}: ${out
          .at(-1)!
          .map((x) => x.toFixed(2))
          .join(' / ')} dB\n`,
      );
    }
    const mean = (j: number) => out.reduce((a, o) => a + o[j]!, 0) / out.length;
    lines.push(`| ${v.label} | ${mean(0).toFixed(2)} dB | ${mean(1).toFixed(2)} dB |`);
  }
  imgs.forEach((im, k) => rowsC[k]!.push(im));
  await strip(path.join(OUT, 'latent-rules-colorization.png'), rowsC);
  await ne.dispose();
  writeFileSync(path.join(OUT, 'latent-rules.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
