/**
 * Measures the five-point template of the tight UTKFace 200x200 crops (the framing our own prior
 * is trained on): runs the face detector on a sample of ../shared/datasets/utkface/utkface-aligned-200.tar
 * (every k-th .jpg in sorted name order) and averages the five landmarks.
 * Usage: npx tsx tools/faces/measure-utkface.ts [count=300]
 */
import path from 'node:path';
import { deriveTemplate, type Point } from '../../workers/faces/templates';
import { BLAZEFACE_BACK, detectFaces } from '../../workers/faces/detector';
import { createOrtRunner, decodeRgba } from './node-io';
import { listTar, readTarMember } from './tar';
import { detectorPath, sharedDir } from './test-support';

/** every k-th jpg by sorted name, offset by `phase` (so tests can use files the measurement did not) */
export function utkSample(tarPath: string, count: number, phase = 0) {
  const all = listTar(tarPath)
    .filter((m) => m.name.endsWith('.jpg'))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const step = Math.floor(all.length / count);
  return Array.from({ length: count }, (_, i) => all[i * step + (phase % step)]!);
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 300);
  const tar = path.join(sharedDir, 'datasets/utkface/utkface-aligned-200.tar');
  const members = utkSample(tar, count);
  const { run } = await createOrtRunner(detectorPath);
  const found: Point[][] = [];
  let missing = 0;
  let multiple = 0;
  for (const m of members) {
    const img = await decodeRgba(readTarMember(tar, m));
    if (img.width !== 200 || img.height !== 200) throw new Error(`${m.name}: ${img.width}x${img.height}`);
    const faces = await detectFaces(img, run, BLAZEFACE_BACK);
    if (faces.length === 0) {
      missing++;
      continue;
    }
    if (faces.length > 1) multiple++;
    found.push(faces[0]!.landmarks as Point[]);
  }
  const t = deriveTemplate(found);
  const sd = t.map(([mx, my], i) => {
    const v = found.reduce((s, p) => s + (p[i]![0] - mx) ** 2 + (p[i]![1] - my) ** 2, 0) / found.length;
    return Math.sqrt(v / 2);
  });
  console.log(`files ${members.length}, faces found ${found.length}, no face ${missing}, more than one ${multiple}`);
  console.log(`UTKFACE_TEMPLATE_200 = ${JSON.stringify(t.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]))}`);
  console.log(`per-point std (px, per axis): ${sd.map((v) => v.toFixed(2)).join(', ')}`);
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();
