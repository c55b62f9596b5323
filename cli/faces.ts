/**
 * The app's face pipeline for the Node runner: find the faces in a photo (BlazeFace + mesh on onnxruntime-node), align
 * each to the model set's template, and paste the restored crops back into the photo at its own size. An aligned
 * crop (a 512 px FFHQ face, say) goes through the same path: it is re-framed to the model's template and back, so the
 * output keeps the input's framing and size.
 */
import path from 'node:path';
import type { AlignedFace, DetectedFace, RgbaImage } from '../workers/api';
import { alignFace, findFaces, pasteBack, warpAffine, type FaceRunners } from '../workers/faces/index';
import type { Point } from '../workers/faces/templates';
import { createOrtRunner } from '../tools/faces/node-io';
import { REPO_ROOT } from './node-engine';

const DETECTOR = path.join(REPO_ROOT, 'public/models/common/face-detector/blazeface-back.onnx');
const MESH = path.join(REPO_ROOT, 'public/models/common/face-detector/facemesh.onnx');

export interface NodeFaces {
  find(photo: RgbaImage): Promise<DetectedFace[]>;
  release(): Promise<void>;
}

export async function createNodeFaces(threads = 1): Promise<NodeFaces> {
  const d = await createOrtRunner(DETECTOR, threads);
  const m = await createOrtRunner(MESH, threads);
  const runners: FaceRunners = { detector: d.run, mesh: m.run };
  return {
    // numbered left to right, as the app numbers them
    find: async (photo) => {
      const faces = await findFaces(photo, runners);
      const cx = (f: DetectedFace) => f.box.x + f.box.width / 2;
      return faces.sort((a, b) => cx(a) - cx(b));
    },
    release: async () => {
      await d.release();
      await m.release();
    },
  };
}

/** `--faces all` or a list of 1-based face numbers ("1,3"), checked against how many were found. */
export function pickFaces(spec: string, found: number): number[] {
  if (spec === 'all') return Array.from({ length: found }, (_, i) => i);
  const picks = spec.split(',').map((s) => Number(s.trim()));
  for (const p of picks) {
    if (!Number.isInteger(p) || p < 1 || p > found) throw new Error(`--faces ${spec}: face ${p} does not exist (${found} found, numbered left to right from 1)`);
  }
  return [...new Set(picks)].map((p) => p - 1);
}

/** A face aligned to the template, with the photo's mask (white = missing) warped the same way when there is one. */
export function alignWithMask(photo: RgbaImage, face: DetectedFace, template: readonly Point[], size: number, mask?: RgbaImage): { aligned: AlignedFace; mask?: RgbaImage } {
  const aligned = alignFace(photo, face, template, size);
  if (!mask) return { aligned };
  const warped = warpAffine(mask, aligned.transform, size, size, { edge: 'constant', fill: [0, 0, 0, 255] });
  // a pixel is missing where any of the mask's pixels it samples is: keep the binary meaning
  for (let i = 0; i < size * size; i++) {
    const v = Math.max(warped.data[i * 4]!, warped.data[i * 4 + 1]!, warped.data[i * 4 + 2]!) > 64 ? 255 : 0;
    warped.data.set([v, v, v, 255], i * 4);
  }
  return { aligned, mask: warped };
}

export { pasteBack };
