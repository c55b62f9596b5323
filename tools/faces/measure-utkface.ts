/**
 * Measures the five-point template of the tight UTKFace 200x200 crops (the framing our own prior
 * is trained on): runs the face detector on a sample of ../shared/datasets/utkface/utkface-aligned-200.tar
 * (every k-th .jpg in sorted name order) and averages the five landmarks.
 * Usage: npx tsx tools/faces/measure-utkface.ts [count=300]
 */
import path from 'node:path';
import { deriveTemplate, type Point } from '../../workers/faces/templates';
import { BLAZEFACE_BACK, detectFaces } from '../../workers/faces/detector';
import { refineLandmarks } from '../../workers/faces/landmarks';
import { createOrtRunner, decodeRgba } from './node-io';
import { listTar, readTarMember } from './tar';
import { detectorPath, meshPath, sharedDir } from './test-support';

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
  const { run: meshRun } = await createOrtRunner(meshPath);
  const found: Point[][] = [];
  const foundMesh: Point[][] = [];
  let lowMesh = 0;
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
    const r = await refineLandmarks(img, faces[0]!, meshRun);
    if (r.confidence < 0.5) lowMesh++;
    else foundMesh.push(r.landmarks);
  }
  console.log(
    `files ${members.length}, faces found ${found.length}, no face ${missing}, more than one ${multiple}, mesh confidence < 0.5: ${lowMesh}`,
  );
  for (const [name, pts] of [
    ['UTKFACE_TEMPLATE_200 (mesh points)', foundMesh],
    ['UTKFACE_TEMPLATE_200_BLAZEFACE (BlazeFace points, estimated mouth corners)', found],
  ] as const) {
    const t = deriveTemplate(pts);
    const sd = t.map(([mx, my], i) => {
      const v = pts.reduce((s, p) => s + (p[i]![0] - mx) ** 2 + (p[i]![1] - my) ** 2, 0) / pts.length;
      return Math.sqrt(v / 2);
    });
    console.log(`${name} over ${pts.length} faces = ${JSON.stringify(t.map(([x, y]) => [+x.toFixed(2), +y.toFixed(2)]))}`);
    console.log(`  per-point std (px, per axis): ${sd.map((v) => v.toFixed(2)).join(', ')}`);
  }
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();
