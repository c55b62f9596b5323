/**
 * Calibrates how BlazeFace's nose tip and mouth centre map to the five-point template's nose tip
 * and mouth corners (BlazeFace has no mouth corners). Runs the detector on FFHQ-aligned 512 crops,
 * whose true five points are the FFHQ template on average, and expresses everything in the eye
 * frame (origin: midpoint of the eyes; u: along the eye line; n: toward the chin; unit: eye distance).
 * Calibration set: ../shared/testdata/{grayscale_faces,ref_faces}; the tests evaluate on other folders.
 * Usage: npx tsx tools/faces/calibrate-landmarks.ts
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { BLAZEFACE_BACK, detectRaw } from '../../workers/faces/detector';
import { FFHQ_TEMPLATE_512 } from '../../workers/faces/templates';
import { createOrtRunner, loadRgba } from './node-io';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const shared = path.resolve(repoRoot, '..', 'shared', 'testdata');
const folders = ['grayscale_faces', 'ref_faces'];

function frame(kp: number[]) {
  const [lx, ly, rx, ry] = kp as [number, number, number, number];
  const d = Math.hypot(rx - lx, ry - ly);
  const ux = (rx - lx) / d;
  const uy = (ry - ly) / d;
  const ox = (lx + rx) / 2;
  const oy = (ly + ry) / 2;
  return (x: number, y: number): [number, number] => [((x - ox) * ux + (y - oy) * uy) / d, ((x - ox) * -uy + (y - oy) * ux) / d];
}

const { run } = await createOrtRunner(path.join(repoRoot, 'public/models/common/face-detector/blazeface-back.onnx'));
const acc = { nose: [0, 0], left: [0, 0], right: [0, 0], n: 0 };
for (const folder of folders) {
  for (const f of readdirSync(path.join(shared, folder)).sort()) {
    const img = await loadRgba(path.join(shared, folder, f));
    const dets = await detectRaw(img, run, BLAZEFACE_BACK, {});
    const d = dets[0];
    if (!d) {
      console.log('no face', folder, f);
      continue;
    }
    const F = frame(d.keypoints);
    const nb = F(d.keypoints[4]!, d.keypoints[5]!);
    const mb = F(d.keypoints[6]!, d.keypoints[7]!);
    const T = FFHQ_TEMPLATE_512;
    const nt = F(T[2]![0], T[2]![1]);
    const lt = F(T[3]![0], T[3]![1]);
    const rt = F(T[4]![0], T[4]![1]);
    acc.nose[0]! += nt[0] - nb[0];
    acc.nose[1]! += nt[1] - nb[1];
    acc.left[0]! += lt[0] - mb[0];
    acc.left[1]! += lt[1] - mb[1];
    acc.right[0]! += rt[0] - mb[0];
    acc.right[1]! += rt[1] - mb[1];
    acc.n++;
  }
}
const m = (v: number[]) => v.map((x) => x / acc.n);
const nose = m(acc.nose);
const left = m(acc.left);
const right = m(acc.right);
console.log(`faces ${acc.n}`);
console.log(`nose offset (u, n): ${nose.map((v) => v.toFixed(4)).join(', ')}`);
console.log(`left corner - mouth centre (u, n): ${left.map((v) => v.toFixed(4)).join(', ')}`);
console.log(`right corner - mouth centre (u, n): ${right.map((v) => v.toFixed(4)).join(', ')}`);
console.log(
  `LANDMARK_MODEL = { noseU: ${nose[0]!.toFixed(4)}, noseN: ${nose[1]!.toFixed(4)}, ` +
    `mouthHalfWidth: ${((right[0]! - left[0]!) / 2).toFixed(4)}, mouthU: ${((right[0]! + left[0]!) / 2).toFixed(4)}, ` +
    `mouthN: ${((right[1]! + left[1]!) / 2).toFixed(4)} }`,
);
