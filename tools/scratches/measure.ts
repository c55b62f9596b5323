/**
 * Precision / recall of the scratch detector on ../shared/testdata/old_photos (photos with a scratch mask) and the
 * share flagged on clean photos; `--out DIR` writes overlays (green = found and marked, red = found but not marked,
 * blue = marked but missed). Run: npx tsx tools/scratches/measure.ts [--out /tmp/dir] [--opts '{"high":12}']
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import sharp from 'sharp';
import type { RgbaImage } from '../../workers/api';
import { detectScratchMask, type ScratchOptions } from '../../workers/scratches/detect';

const T = new URL('../../../shared/testdata/', import.meta.url).pathname;

async function load(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

export function score(m: Uint8Array, gt: RgbaImage, cut = 127): { precision: number; recall: number; iou: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < m.length; i++) {
    const g = (gt.data[i * 4] as number) > cut;
    if (m[i] && g) tp++;
    else if (m[i]) fp++;
    else if (g) fn++;
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), iou: tp / Math.max(1, tp + fp + fn) };
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
    const t0 = performance.now();
    const m = detectScratchMask(img, opts);
    const ms = performance.now() - t0;
    const s = score(m, gt);
    const s200 = score(m, gt, 200);
    console.log(
      `${name} ${img.width}x${img.height}: P ${s.precision.toFixed(3)} R ${s.recall.toFixed(3)} IoU ${s.iou.toFixed(3)} ` +
        `(mask>200: P ${s200.precision.toFixed(3)} R ${s200.recall.toFixed(3)}) ${ms.toFixed(0)} ms`,
    );
    if (out) {
      const px = Buffer.alloc(img.width * img.height * 3);
      for (let i = 0; i < m.length; i++) {
        const g = (gt.data[i * 4] as number) > 127;
        const l = (img.data[i * 4] as number) * 0.5;
        px[i * 3] = m[i] && !g ? 255 : l;
        px[i * 3 + 1] = m[i] && g ? 255 : l;
        px[i * 3 + 2] = !m[i] && g ? 255 : l;
      }
      await sharp(px, { raw: { width: img.width, height: img.height, channels: 3 } })
        .png()
        .toFile(`${out}/${name}.png`);
    }
  }
  if (args.includes('--no-clean')) return;
  const clean = [
    ...readdirSync(`${dir}med`).map((f) => `old_photos/med/${f}`),
    ...readdirSync(`${T}cropped_faces`)
      .slice(0, 4)
      .map((f) => `cropped_faces/${f}`),
  ];
  for (const f of clean) {
    const m = detectScratchMask(await load(T + f), opts);
    let c = 0;
    for (const v of m) c += v;
    console.log(`clean ${f}: ${((100 * c) / m.length).toFixed(2)}% flagged`);
    if (out) {
      const img = await load(T + f);
      const px = Buffer.alloc(img.width * img.height * 3);
      for (let i = 0; i < m.length; i++) {
        const l = (img.data[i * 4] as number) * 0.6;
        px[i * 3] = m[i] ? 255 : l;
        px[i * 3 + 1] = l;
        px[i * 3 + 2] = l;
      }
      await sharp(px, { raw: { width: img.width, height: img.height, channels: 3 } })
        .png()
        .toFile(`${out}/clean-${f.replace(/\//g, '_')}.png`);
    }
  }
}

void main();
