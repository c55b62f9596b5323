/**
 * The app's face pipeline for the Node runner: find the faces in a photo (BlazeFace + mesh on onnxruntime-node), align
 * each to the model set's template, and paste the restored crops back into the photo at its own size. An aligned
 * crop (a 512 px FFHQ face, say) goes through the same path: it is re-framed to the model's template and back, so the
 * output keeps the input's framing and size.
 */
import type { AlignedFace, DetectedFace, EngineApi, RgbaImage } from '../workers/api';
import { alignFace, pasteBack, warpAffine } from '../workers/faces/index';
import type { Point } from '../workers/faces/templates';

export interface NodeFaces {
  find(photo: RgbaImage): Promise<DetectedFace[]>;
  release(): Promise<void>;
}

/** Faces through the engine service: the detector and mesh load from their components manifest, as in the app. */
export function createNodeFaces(service: Pick<EngineApi, 'detectFaces'>): NodeFaces {
  return {
    // numbered left to right, as the app numbers them
    find: async (photo) => {
      const faces = await service.detectFaces(photo);
      const cx = (f: DetectedFace) => f.box.x + f.box.width / 2;
      return faces.sort((a, b) => cx(a) - cx(b));
    },
    // the service releases the face sessions with the engine
    release: async () => undefined,
  };
}

/** `--faces all` or a list of 1-based face numbers ("1,3"), checked against how many were found. */
export function pickFaces(spec: string, found: number): number[] {
  if (spec === 'all') return Array.from({ length: found }, (_, i) => i);
  const picks = spec.split(',').map((s) => Number(s.trim()));
  for (const p of picks) {
    if (!Number.isInteger(p) || p < 1 || p > found)
      throw new Error(`--faces ${spec}: face ${p} does not exist (${found} found, numbered left to right from 1)`);
  }
  return [...new Set(picks)].map((p) => p - 1);
}

/** A face aligned to the template, with the photo's mask (white = missing) warped the same way when there is one. */
export function alignWithMask(
  photo: RgbaImage,
  face: DetectedFace,
  template: readonly Point[],
  size: number,
  mask?: RgbaImage,
): { aligned: AlignedFace; mask?: RgbaImage } {
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
