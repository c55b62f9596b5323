/**
 * The super-resolution step against plain bicubic on real faces: every clean 512 px face in
 * ../shared/testdata/ref_faces is shrunk (antialiased bicubic) to 64, 128 and 256 px, brought back to 512 with each
 * method through workers/upscaler (the code the app and the CLI run; models on onnxruntime-node here), and
 * compared with the original: PSNR (RGB), NIQE (lower = more natural; tools/quality/metrics, BasicSR's
 * algorithm with ../shared/metrics/niqe's parameters) and identity cosine (MobileFace, 112 px).
 *
 *   npx tsx tools/upscaler/compare.ts [--models slim,medium] [--out docs/quality-sr]
 *
 * Writes docs/quality-sr.md (the table, regenerated), docs/quality-sr/results.json and side-by-side crops
 * docs/quality-sr/<face>.png for the first --images faces.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { RgbaImage } from '../../workers/api';
import { resizeBicubic } from '../../workers/upscaler/resample';
import { upscaleImage, type UpscalerRunners } from '../../workers/upscaler/upscale';
import { createOrtRunner, loadRgba } from '../faces/node-io';
import { toIdentityInput } from '../quality/metrics/identity';
import { niqe } from '../quality/metrics/niqe';
import { cosine, psnr } from '../quality/metrics/psnr';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SIZES = arg('models', 'slim,medium').split(',');
const OUT = path.resolve(repoRoot, arg('out', 'docs/quality-sr'));
// all four conversions (tools/upscaler/convert.sh); only slim is shipped in public/models/common/upscaler
const modelDir = path.resolve(repoRoot, arg('model-dir', '.data/upscaler/onnx'));
const faces = path.resolve(repoRoot, '..', 'shared', 'testdata', 'ref_faces');
/** side-by-side images for the first N faces (PNG, ~0.5 MB each) */
const FROMS = [64, 128, 256];
const N_IMAGES = Number(arg('images', '1'));
/** the middle of the face (eyes, nose, mouth) at full size, where the difference shows */
const CROP = { left: 160, top: 176, width: 192, height: 192 };

/** The compared region of a 512 px face as a PNG panel. */
async function panel(img: RgbaImage): Promise<Buffer> {
  const raw = { width: 512, height: 512, channels: 4 as const };
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw })
    .extract(CROP)
    .removeAlpha()
    .png()
    .toBuffer();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const id = await ort.InferenceSession.create(path.join(repoRoot, 'public/models/common/identity/mobileface.onnx'), {
    intraOpNumThreads: 1,
  });
  const embed = async (img: RgbaImage) =>
    (
      await id.run({
        [id.inputNames[0]!]: new ort.Tensor('float32', toIdentityInput(img.data, img.width, img.height, 4, 112), [1, 3, 112, 112]),
      })
    )[id.outputNames[0]!]!.data as Float32Array;
  const methods: { name: string; runners: UpscalerRunners; release: () => Promise<void> }[] = [
    { name: 'bicubic', runners: {}, release: async () => {} },
  ];
  for (const s of SIZES) {
    const x2 = await createOrtRunner(path.join(modelDir, `esrgan-${s}-x2.onnx`));
    const x4 = await createOrtRunner(path.join(modelDir, `esrgan-${s}-x4.onnx`));
    methods.push({
      name: `esrgan-${s}`,
      runners: { x2: x2.run, x4: x4.run },
      release: async () => (await x2.release(), await x4.release()),
    });
  }
  type Row = { face: string; from: number; method: string; psnr: number; niqe: number; id: number; ms: number };
  const rows: Row[] = [];
  const originals: { face: string; niqe: number }[] = [];
  const files = readdirSync(faces)
    .filter((f) => f.endsWith('.png'))
    .sort();
  for (const file of files) {
    const orig = await loadRgba(path.join(faces, file));
    if (orig.width !== 512 || orig.height !== 512) throw new Error(`${file}: expected 512x512, got ${orig.width}x${orig.height}`);
    const eOrig = await embed(orig);
    originals.push({ face: file, niqe: niqe(orig.data, 512, 512, 4) });
    const panels: Buffer[] = [];
    for (const from of FROMS) {
      const small = resizeBicubic(orig, from, from);
      for (const m of methods) {
        const t0 = performance.now();
        const { image } = await upscaleImage(small, 512, 512, m.name === 'bicubic' ? 'bicubic' : 'esrgan', m.runners);
        const ms = performance.now() - t0;
        rows.push({
          face: file,
          from,
          method: m.name,
          psnr: psnr(image.data, orig.data, 512 * 512, { channels: 4 }),
          niqe: niqe(image.data, 512, 512, 4),
          id: cosine(await embed(image), eOrig),
          ms,
        });
        console.log(JSON.stringify(rows.at(-1)));
        panels.push(await panel(image));
      }
      panels.push(await panel(orig));
    }
    const cols = methods.length + 1;
    if (originals.length <= N_IMAGES)
      await sharp({ create: { width: CROP.width * cols, height: CROP.height * FROMS.length, channels: 3, background: '#ffffff' } })
        .composite(panels.map((p, i) => ({ input: p, left: (i % cols) * CROP.width, top: Math.floor(i / cols) * CROP.height })))
        .png()
        .toFile(path.join(OUT, `${path.parse(file).name}.png`));
  }
  for (const m of methods) await m.release();
  await id.release();

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const md: string[] = [
    '# Super-resolution step: ESRGAN (@upscalerjs) vs bicubic',
    '',
    `Written by \`npx tsx tools/upscaler/compare.ts\` (${new Date().toISOString().slice(0, 10)}). ${files.length} clean 512 px faces from`,
    "`../shared/testdata/ref_faces`, shrunk with antialiased bicubic to 64 (the bundled set's output size), 128 and 256 (the latent set's) px,",
    'brought back to 512 with each method',
    "through `workers/upscaler/upscale.ts` (the app's and the CLI's code; 64 -> 512 is an x4 then an x2 pass, 128 -> 512 one x4 pass, 256 -> 512 one x2 pass)",
    'and compared with the original. PSNR: RGB, higher is better. NIQE: Y channel at 512, 96 px blocks, lower is more natural',
    `(the originals: mean ${mean(originals.map((o) => o.niqe)).toFixed(2)}). Identity: cosine of MobileFace embeddings with the original's,`,
    'higher is better. Time: onnxruntime-node, one thread, on a shared 2-core machine (indicative only).',
    '',
    '| from | method | PSNR (dB) | NIQE | identity cosine | time per face (s) |',
    '|---|---|---|---|---|---|',
  ];
  for (const from of FROMS) {
    for (const m of methods) {
      const r = rows.filter((x) => x.from === from && x.method === m.name);
      md.push(
        `| ${from} -> 512 | ${m.name} | ${mean(r.map((x) => x.psnr)).toFixed(2)} | ${mean(r.map((x) => x.niqe)).toFixed(2)} | ${mean(r.map((x) => x.id)).toFixed(4)} | ${(mean(r.map((x) => x.ms)) / 1000).toFixed(2)} |`,
      );
    }
  }
  md.push(
    '',
    'Per face (PSNR / NIQE / identity):',
    '',
    `| face | from | ${methods.map((m) => m.name).join(' | ')} | original NIQE |`,
    `|---|---|${methods.map(() => '---|').join('')}---|`,
  );
  for (const o of originals) {
    for (const from of FROMS) {
      const cells = methods.map((m) => {
        const r = rows.find((x) => x.face === o.face && x.from === from && x.method === m.name)!;
        return `${r.psnr.toFixed(2)} / ${r.niqe.toFixed(2)} / ${r.id.toFixed(3)}`;
      });
      md.push(`| ${o.face} | ${from} | ${cells.join(' | ')} | ${o.niqe.toFixed(2)} |`);
    }
  }
  md.push(
    '',
    `Images (\`docs/quality-sr/<face>.png\`, the middle 192x192 of the 512 result at full size): rows from 64, 128 and 256 px; columns ${methods.map((m) => m.name).join(', ')}, original.`,
    '',
  );
  for (const f of files.slice(0, N_IMAGES)) md.push(`![${f}](quality-sr/${path.parse(f).name}.png)`);
  writeFileSync(path.join(repoRoot, 'docs', 'quality-sr.md'), md.join('\n') + '\n');
  writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ originals, rows }, null, 1) + '\n');
  console.log(md.slice(9, 9 + 2 + 2 * methods.length).join('\n'));
}

void main();
