/**
 * Measures the five-point alignment template of the UTKFace framing (the bundled prior's framing):
 * runs the app's face detector (workers/faces, BlazeFace + its calibrated five-point model) on the
 * held-out UTKFace crops (200x200) and averages the five points, then scales them to the prior's size.
 * Usage: npx tsx tools/quality/utk-template.ts [dir-of-200px-crops] [size=64]
 * (the crops come from tools/train/pack.py's held-out split, extracted to .data/utk_val200/).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BLAZEFACE_BACK, detectFaces } from '../../workers/faces/detector';
import { deriveTemplate, scaleTemplate, type Point } from '../../workers/faces/templates';
import { createOrtRunner, loadRgba } from '../faces/node-io';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const dir = process.argv[2] ?? path.join(repoRoot, '.data', 'utk_val200');
const size = Number(process.argv[3] ?? 64);
const { run, release } = await createOrtRunner(path.join(repoRoot, 'public/models/common/face-detector/blazeface-back.onnx'));
const pts: Point[][] = [];
let missed = 0;
let srcSize = 0;
for (const f of readdirSync(dir).sort()) {
  const img = await loadRgba(path.join(dir, f));
  srcSize = img.width;
  const faces = await detectFaces(img, run, BLAZEFACE_BACK, {});
  const face = faces[0];
  if (!face) {
    missed++;
    continue;
  }
  pts.push(face.landmarks as Point[]);
}
await release();
const mean = deriveTemplate(pts);
// spread: per point std in source pixels
const std = mean.map((m, i) => {
  let s = 0;
  for (const p of pts) s += (p[i]![0] - m[0]) ** 2 + (p[i]![1] - m[1]) ** 2;
  return Math.sqrt(s / pts.length / 2);
});
const scaled = scaleTemplate(mean, srcSize, size).map(([x, y]) => [Number(x.toFixed(4)), Number(y.toFixed(4))]);
console.log(JSON.stringify({ faces: pts.length, missed, srcSize, templateSrc: mean, stdSrc: std, size, template: scaled }, null, 1));
