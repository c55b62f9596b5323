/**
 * Measures how close the detector's five points come to a model's template on photos that ARE aligned crops, and
 * on photos that are not (the same crops re-framed: zoomed, shifted, turned; faces small in a bigger square; the
 * other framing), to pick the threshold of workers/faces/already-aligned.ts.
 * Usage: npx tsx tools/faces/measure-aligned.ts [utkCount=40]
 */
import path from 'node:path';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { RgbaImage } from '../../workers/api';
import { warpAffine } from '../../workers/faces/alignment';
import { checkAlreadyAligned } from '../../workers/faces/already-aligned';
import { findFaces } from '../../workers/faces/index';
import { ffhqTemplate, utkfaceTemplate, type Point } from '../../workers/faces/templates';
import { createOrtRunner, decodeRgba, loadRgba } from './node-io';
import { readTarMember } from './tar';
import { utkSample } from './measure-utkface';
import { detectorPath, meshPath, repoRoot, sharedDir } from './test-support';

/** Re-frame a square image about its centre: zoom (>1 = face bigger), shift (fraction of side), turn (degrees). */
function reframe(img: RgbaImage, zoom: number, shift: [number, number], degrees: number, outSize = img.width): RgbaImage {
  const c = (img.width - 1) / 2;
  const o = (outSize - 1) / 2;
  const k = (zoom * outSize) / img.width;
  const a = (degrees * Math.PI) / 180;
  const cos = k * Math.cos(a);
  const sin = k * Math.sin(a);
  // photo -> out: rotate+scale about the centre, then shift
  const tx = o - cos * c + sin * c + shift[0] * outSize;
  const ty = o - sin * c - cos * c + shift[1] * outSize;
  const t: [number, number, number, number, number, number] = [cos, -sin, tx, sin, cos, ty];
  return warpAffine(img, t, outSize, outSize, { edge: 'constant', fill: [110, 112, 108, 255] });
}

async function main(): Promise<void> {
  const utkCount = Number(process.argv[2] ?? 40);
  const { run: detector } = await createOrtRunner(detectorPath);
  const { run: mesh } = await createOrtRunner(meshPath);
  const tiny = ffhqTemplate(64);
  // the bundled model set (the one folder under public/models besides common/): its template is the UTKFace framing
  const setDir = readdirSync(path.join(repoRoot, 'public/models')).find(
    (d) => d !== 'common' && existsSync(path.join(repoRoot, 'public/models', d, 'manifest.json')),
  );
  if (!setDir) throw new Error('no bundled model set under public/models');
  const bundled = JSON.parse(readFileSync(path.join(repoRoot, 'public/models', setDir, 'manifest.json'), 'utf8')) as {
    alignment: { template: Point[]; size: number };
  };
  const utk = bundled.alignment.template;
  const utkSize = bundled.alignment.size;
  console.log(`bundled set: ${setDir} (template at ${utkSize} px)`);
  interface Row {
    group: string;
    name: string;
    faces: number;
    ffhq: number;
    utk: number;
    shift: number;
    scale: number;
    angle: number;
    utkScale: number;
    utkMesh: number;
    utkMeshScale: number;
  }
  const rows: Row[] = [];
  const accepted: { group: string; ffhq: boolean; utk: boolean; utkMesh: boolean }[] = [];
  const measure = async (group: string, name: string, img: RgbaImage) => {
    const faces = await findFaces(img, { detector, mesh });
    const all = { threshold: Infinity, maxScaleError: Infinity, maxAngle: Infinity };
    const f = checkAlreadyAligned(faces.slice(0, 1), img.width, img.height, tiny, 64, all);
    const u = checkAlreadyAligned(faces.slice(0, 1), img.width, img.height, utk, utkSize, all);
    const m = checkAlreadyAligned(faces.slice(0, 1), img.width, img.height, utkfaceTemplate(64), 64, all);
    // the decision as the app makes it (default limits; the photo's own face count)
    accepted.push({
      group,
      ffhq: checkAlreadyAligned(faces, img.width, img.height, tiny, 64).aligned,
      utk: checkAlreadyAligned(faces, img.width, img.height, utk, utkSize).aligned,
      utkMesh: checkAlreadyAligned(faces, img.width, img.height, utkfaceTemplate(64), 64).aligned,
    });
    rows.push({
      group,
      name,
      faces: faces.length,
      ffhq: f.distance,
      utk: u.distance,
      shift: f.cornerShift,
      scale: f.scale,
      angle: f.angle,
      utkScale: u.scale,
      utkMesh: m.distance,
      utkMeshScale: m.scale,
    });
  };
  const dirs = [
    'cropped_faces',
    'grayscale_faces',
    'masked_faces',
    'ref_faces',
    'ref_cropped_faces',
    'old_photos/med',
    'old_photos/med_scratch',
  ];
  const crops: { name: string; img: RgbaImage }[] = [];
  for (const d of dirs) {
    for (const f of readdirSync(path.join(sharedDir, 'testdata', d)).sort()) {
      const img = await loadRgba(path.join(sharedDir, 'testdata', d, f));
      crops.push({ name: `${d}/${f}`, img });
      await measure('ffhq-aligned 512', `${d}/${f}`, img);
    }
  }
  // the same faces, not in the template's framing (every third crop, to keep the run short)
  const some = crops.filter((_, i) => i % 3 === 0);
  const variants: [string, number, [number, number], number][] = [
    ['zoom 0.9', 0.9, [0, 0], 0],
    ['zoom 0.8', 0.8, [0, 0], 0],
    ['zoom 0.7', 0.7, [0, 0], 0],
    ['zoom 1.1', 1.1, [0, 0], 0],
    ['zoom 1.25', 1.25, [0, 0], 0],
    ['shift 0.05', 1, [0.05, 0], 0],
    ['shift 0.1', 1, [0.1, 0.05], 0],
    ['turn 10', 1, [0, 0], 10],
    ['small in a square (0.5)', 0.5, [0.1, -0.1], 0],
    ['small in a square (0.35)', 0.35, [-0.2, 0.15], 0],
  ];
  for (const [label, zoom, shift, deg] of variants) {
    for (const c of some) await measure(label, c.name, reframe(c.img, zoom, shift, deg));
  }
  // tight UTKFace 200 crops (the bundled set's framing)
  const tar = path.join(sharedDir, 'datasets/utkface/utkface-aligned-200.tar');
  for (const m of utkSample(tar, utkCount, 7)) await measure('utkface 200', m.name, await decodeRgba(readTarMember(tar, m)));

  const groups = [...new Set(rows.map((r) => r.group))];
  const q = (v: number[], p: number) => {
    const s = [...v].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
  };
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '  -  ');
  console.log(
    'group | photos | one face | FFHQ distance min / median / max | bundled UTK distance min / median / max | FFHQ re-crop corner shift median | FFHQ re-crop scale median | taken as aligned: FFHQ 64 / bundled / UTK mesh template',
  );
  for (const g of groups) {
    const r = rows.filter((x) => x.group === g);
    const one = r.filter((x) => x.faces === 1);
    const ff = one.map((x) => x.ffhq);
    const uu = one.map((x) => x.utk);
    console.log(
      `${g} | ${r.length} | ${one.length} | ${fmt(Math.min(...ff))} / ${fmt(q(ff, 0.5))} / ${fmt(Math.max(...ff))} | ${fmt(Math.min(...uu))} / ${fmt(q(uu, 0.5))} / ${fmt(Math.max(...uu))} | ${fmt(
        q(
          one.map((x) => x.shift),
          0.5,
        ),
      )} | ${fmt(
        q(
          one.map((x) => x.scale),
          0.5,
        ),
      )} | ${['ffhq', 'utk', 'utkMesh'].map((k) => accepted.filter((a) => a.group === g && a[k as 'ffhq']).length).join(' / ')}`,
    );
  }
  if (process.argv.includes('--rows'))
    for (const r of rows)
      console.log(
        `${r.group}\t${r.name}\tfaces ${r.faces}\tffhq ${fmt(r.ffhq)}\tutk ${fmt(r.utk)}\tshift ${fmt(r.shift)}\tscale ${fmt(r.scale)}\tangle ${fmt(r.angle)}\tutkScale ${fmt(r.utkScale)}\tutkMesh ${fmt(r.utkMesh)}\tutkMeshScale ${fmt(r.utkMeshScale)}`,
      );
}

await main();
