/**
 * Measures the scratch detector on ../shared/testdata (numbers in workers/scratches/README.md):
 * - precision / recall on every old_photos/med_scratch photo that has a mask in old_photos/scratch_masks, on the
 *   whole photo and on the two halves of a 128 px checkerboard (A: tiles with even x+y, B: the others), and with the
 *   mask's flat padding (mask and photo both a constant grey, no photo content) left out of the score;
 * - the share of pixels flagged on the clean old photos (old_photos/med) and a few cropped_faces;
 * - recall on synthetic scratches painted on the clean old photos (workers/scratches/synthetic.ts), and the pixels
 *   newly flagged away from them;
 * - the time for one 512 px photo (median of 5).
 * `--out DIR` writes overlays (green = found and marked, red = found but not marked, blue = marked but missed).
 * Run: npx tsx tools/scratches/measure.ts [--out /tmp/dir] [--opts '{"high":12}'] [--no-clean] [--no-synthetic]
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import type { RgbaImage } from '../../workers/api';
import { detectScratchMask, type ScratchOptions } from '../../workers/scratches/detect';
import { paintScratches } from '../../workers/scratches/synthetic';

const T = new URL('../../../shared/testdata/', import.meta.url).pathname;

async function load(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

export interface Score {
  precision: number;
  recall: number;
  iou: number;
}

/** Pixel precision / recall of `m` against `gt` (> cut = marked), over the pixels where `use` is 1 (all if absent). */
export function score(m: Uint8Array, gt: RgbaImage, cut = 127, use?: (i: number) => boolean): Score {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < m.length; i++) {
    if (use && !use(i)) continue;
    const g = (gt.data[i * 4] as number) > cut;
    if (m[i] && g) tp++;
    else if (m[i]) fp++;
    else if (g) fn++;
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), iou: tp / Math.max(1, tp + fp + fn) };
}

/** The mask's padding: where mask and photo are both flat grey (a 5x5 neighbourhood within 3 levels of 133 in both). */
export function flatPadding(img: RgbaImage, gt: RgbaImage): Uint8Array {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h);
  const near = (d: Uint8ClampedArray, i: number) => Math.abs((d[i * 4] as number) - 133) <= 3;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let ok = true;
      for (let dy = -2; dy <= 2 && ok; dy++)
        for (let dx = -2; dx <= 2 && ok; dx++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          const j = yy * w + xx;
          ok = near(img.data, j) && near(gt.data, j);
        }
      if (ok) out[y * w + x] = 1;
    }
  // the band along its edge (JPEG ringing of the mask) goes with it
  const grown = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!out[y * w + x]) continue;
      for (let dy = -3; dy <= 3; dy++)
        for (let dx = -3; dx <= 3; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) grown[yy * w + xx] = 1;
        }
    }
  return grown;
}

const fmt = (s: Score) => `P ${s.precision.toFixed(3)} R ${s.recall.toFixed(3)}`;

async function overlay(img: RgbaImage, m: Uint8Array, truth: (i: number) => boolean, path: string): Promise<void> {
  const px = Buffer.alloc(img.width * img.height * 3);
  for (let i = 0; i < m.length; i++) {
    const g = truth(i);
    const l = (img.data[i * 4] as number) * 0.5;
    px[i * 3] = m[i] && !g ? 255 : l;
    px[i * 3 + 1] = m[i] && g ? 255 : l;
    px[i * 3 + 2] = !m[i] && g ? 255 : l;
  }
  await sharp(px, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(path);
}

async function main() {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const optAt = args.indexOf('--opts');
  const opts: Partial<ScratchOptions> = optAt >= 0 ? (JSON.parse(args[optAt + 1] ?? '{}') as Partial<ScratchOptions>) : {};
  if (out) mkdirSync(out, { recursive: true });
  const dir = `${T}old_photos/`;
  for (const name of readdirSync(`${dir}med_scratch`).sort()) {
    const maskPath = `${dir}scratch_masks/${name}`;
    if (!existsSync(maskPath)) continue;
    const img = await load(`${dir}med_scratch/${name}`);
    const gt = await load(maskPath);
    const times: number[] = [];
    let m: Uint8Array = new Uint8Array(0);
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      m = detectScratchMask(img, opts);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const w = img.width;
    const half = (a: boolean) => (i: number) => ((Math.floor((i % w) / 128) + Math.floor(i / w / 128)) % 2 === 0) === a;
    const pad = flatPadding(img, gt);
    let padMarked = 0;
    let marked = 0;
    for (let i = 0; i < m.length; i++) {
      const g = (gt.data[i * 4] as number) > 127;
      marked += g ? 1 : 0;
      padMarked += g && pad[i] ? 1 : 0;
    }
    const s = score(m, gt);
    console.log(`${name} ${img.width}x${img.height}: ${fmt(s)} IoU ${s.iou.toFixed(3)}; median ${times[2]?.toFixed(0)} ms`);
    console.log(`  half A ${fmt(score(m, gt, 127, half(true)))}, half B ${fmt(score(m, gt, 127, half(false)))}`);
    console.log(`  mask > 200: ${fmt(score(m, gt, 200))}`);
    console.log(`  padding left out (${padMarked} of ${marked} marked px): ${fmt(score(m, gt, 127, (i) => !pad[i]))}`);
    if (out) await overlay(img, m, (i) => (gt.data[i * 4] as number) > 127, `${out}/${name}.png`);
  }
  if (!args.includes('--no-clean')) {
    const clean = [
      ...readdirSync(`${dir}med`)
        .sort()
        .map((f) => `old_photos/med/${f}`),
      ...readdirSync(`${T}cropped_faces`)
        .sort()
        .slice(0, 4)
        .map((f) => `cropped_faces/${f}`),
    ];
    for (const f of clean) {
      const img = await load(T + f);
      const m = detectScratchMask(img, opts);
      let c = 0;
      for (const v of m) c += v;
      console.log(`clean ${f}: ${((100 * c) / m.length).toFixed(2)}% flagged`);
      if (out) await overlay(img, m, () => false, `${out}/clean-${f.replace(/\//g, '_')}.png`);
    }
  }
  if (!args.includes('--no-synthetic')) {
    let tp = 0;
    let fn = 0;
    let added = 0;
    const files = readdirSync(`${dir}med`).sort();
    for (const [k, f] of files.entries()) {
      const img = await load(`${dir}med/${f}`);
      const { image, truth } = paintScratches(img, 4, k + 1);
      const m = detectScratchMask(image, opts);
      const before = detectScratchMask(img, opts);
      const near = nearTruth(truth, image.width, image.height, 2);
      let a = 0;
      let b = 0;
      let n = 0;
      for (let i = 0; i < m.length; i++) {
        if (truth[i]) {
          if (m[i]) a++;
          else b++;
        } else if (m[i] && !before[i] && !near[i]) n++;
      }
      tp += a;
      fn += b;
      added += n;
      console.log(`synthetic ${f}: recall ${(a / (a + b)).toFixed(3)} of ${a + b} px, ${n} px newly flagged away from them`);
      if (out) await overlay(image, m, (i) => truth[i] === 1, `${out}/synthetic-${f}.png`);
    }
    console.log(`synthetic overall: recall ${(tp / (tp + fn)).toFixed(3)}, ${added} px newly flagged away from the scratches`);
  }
}

/** 1 within `r` px (square) of a truth pixel. */
function nearTruth(truth: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!truth[y * w + x]) continue;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) out[yy * w + xx] = 1;
        }
    }
  return out;
}

void main();
