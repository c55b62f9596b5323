/**
 * BlazeFace face detection in pure TS: preprocessing, anchors, decoding, weighted NMS, mapping
 * back to photo pixels and the five alignment landmarks. The ONNX session is behind a tiny
 * runner function, so this module runs in a Web Worker (onnxruntime-web) and in Node
 * (onnxruntime-node) alike. Model conventions: workers/faces/README.md.
 */
import type { DetectedFace, RgbaImage } from '../api';
import { downscaleBox } from './image';

export interface RunnerTensor {
  data: Float32Array;
  dims: number[];
}

/** Runs the detector's ONNX session on one input tensor; returns all outputs by name. */
export type DetectorRunner = (input: Float32Array, dims: number[]) => Promise<Record<string, RunnerTensor>>;

export interface AnchorLayer {
  /** feature-map stride in input pixels */
  stride: number;
  /** anchors per feature-map cell */
  anchorsPerCell: number;
}

/** What the engine needs to know about a BlazeFace-family ONNX model (manifest params). */
export interface BlazeFaceSpec {
  /** square input edge, pixels */
  inputSize: number;
  /** input layout of the ONNX model; values are RGB in [-1, 1] */
  layout: 'NHWC';
  layers: AnchorLayer[];
  /** raw box/keypoint offsets are in input pixels: divided by this to get [0,1] units */
  coordScale: number;
  /** number of keypoints after the 4 box numbers */
  keypoints: number;
}

/** BlazeFace "back camera" model (MediaPipe face_detection_back, 256x256). */
export const BLAZEFACE_BACK: BlazeFaceSpec = {
  inputSize: 256,
  layout: 'NHWC',
  layers: [
    { stride: 16, anchorsPerCell: 2 },
    { stride: 32, anchorsPerCell: 6 },
  ],
  coordScale: 256,
  keypoints: 6,
};

/** BlazeFace "front camera" model (128x128), kept for comparison (tools/faces). */
export const BLAZEFACE_FRONT: BlazeFaceSpec = {
  inputSize: 128,
  layout: 'NHWC',
  layers: [
    { stride: 8, anchorsPerCell: 2 },
    { stride: 16, anchorsPerCell: 6 },
  ],
  coordScale: 128,
  keypoints: 6,
};

export interface DetectOptions {
  /** minimum sigmoid score; default 0.6 */
  scoreThreshold?: number;
  /** IoU above which detections merge in weighted NMS; default 0.3 */
  iouThreshold?: number;
  /** the photo is box-downscaled so its long side is at most this before detection; default 2048 */
  workingSize?: number;
  /**
   * Also run the detector on overlapping tiles of the working copy so that small faces in big
   * photos are seen at a higher resolution. 'auto' (default) tiles when the working copy's long
   * side is over 2x the model input; 'off' runs one pass on the whole photo.
   */
  tiles?: 'auto' | 'off';
  /**
   * For photos known to hold a face (e.g. an already cropped face): when nothing passes
   * scoreThreshold, return the best detection scoring at least this instead of none. Off by default.
   */
  atLeastOneAbove?: number;
  /** drop a detection when more than this fraction of its box lies inside a better one; default 0.4 */
  containThreshold?: number;
  /** at most this many faces, best score first; default 32 */
  maxFaces?: number;
}

/** A raw detection in some pixel space: box corners, keypoints (x, y) and score. */
export interface RawDetection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  keypoints: number[];
  score: number;
}

/** Anchor centres (x, y) in [0, 1] units, in the model's output order. */
export function generateAnchors(spec: BlazeFaceSpec): Float32Array {
  let total = 0;
  for (const l of spec.layers) total += (spec.inputSize / l.stride) ** 2 * l.anchorsPerCell;
  const out = new Float32Array(total * 2);
  let k = 0;
  for (const l of spec.layers) {
    const g = Math.ceil(spec.inputSize / l.stride);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        for (let a = 0; a < l.anchorsPerCell; a++) {
          out[k++] = (x + 0.5) / g;
          out[k++] = (y + 0.5) / g;
        }
      }
    }
  }
  return out;
}

/** Where a region of the image sits inside the square model input. */
export interface Letterbox {
  /** region of the source image that was letterboxed */
  rx: number;
  ry: number;
  /** input pixels per source pixel */
  scale: number;
  /** offset of the region's content inside the input, input pixels */
  padX: number;
  padY: number;
}

/**
 * Letterbox a region of `img` into a size x size NHWC float tensor, RGB in [-1, 1], padding with
 * 0 (mid grey); parts of the region outside the image are mid grey too. Downscaling averages up
 * to 4x4 bilinear samples per input pixel (antialiasing).
 */
export function letterbox(
  img: RgbaImage,
  size: number,
  region: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: img.width, height: img.height },
): { tensor: Float32Array; box: Letterbox } {
  const scale = size / Math.max(region.width, region.height);
  const cw = region.width * scale;
  const ch = region.height * scale;
  const padX = (size - cw) / 2;
  const padY = (size - ch) / 2;
  const tensor = new Float32Array(size * size * 3);
  const ss = Math.min(4, Math.max(1, Math.ceil(1 / scale)));
  const w = img.width;
  const h = img.height;
  const d = img.data;
  // sample positions along each axis are separable: precompute indices and weights once
  const axis = (n: number, pad: number, origin: number, extent: number) => {
    const i0 = new Int32Array(n * ss);
    const i1 = new Int32Array(n * ss);
    const f = new Float32Array(n * ss);
    const inside = new Uint8Array(n * ss);
    for (let i = 0; i < n; i++) {
      for (let s = 0; s < ss; s++) {
        const p = origin + (i + (s + 0.5) / ss - pad) / scale - 0.5;
        const k = i * ss + s;
        // outside the image (letterbox padding or a zoomed-out region): mid grey
        inside[k] = p >= -0.5 && p <= extent - 0.5 ? 1 : 0;
        const c = Math.min(extent - 1, Math.max(0, p));
        const a = Math.min(extent - 1, Math.floor(c));
        i0[k] = a;
        i1[k] = Math.min(extent - 1, a + 1);
        f[k] = c - a;
      }
    }
    return { i0, i1, f, inside };
  };
  const ax = axis(size, padX, region.x, w);
  const ay = axis(size, padY, region.y, h);
  const norm = 1 / (ss * ss * 127.5);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < ss; sy++) {
        const ky = j * ss + sy;
        const yIn = ay.inside[ky]!;
        const r0 = ay.i0[ky]! * w * 4;
        const r1 = ay.i1[ky]! * w * 4;
        const fy = ay.f[ky]!;
        for (let sx = 0; sx < ss; sx++) {
          const kx = i * ss + sx;
          if (!yIn || !ax.inside[kx]) {
            r += 127.5;
            g += 127.5;
            b += 127.5;
            continue;
          }
          const c0 = ax.i0[kx]! * 4;
          const c1 = ax.i1[kx]! * 4;
          const fx = ax.f[kx]!;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          r += d[r0 + c0]! * w00 + d[r0 + c1]! * w10 + d[r1 + c0]! * w01 + d[r1 + c1]! * w11;
          g += d[r0 + c0 + 1]! * w00 + d[r0 + c1 + 1]! * w10 + d[r1 + c0 + 1]! * w01 + d[r1 + c1 + 1]! * w11;
          b += d[r0 + c0 + 2]! * w00 + d[r0 + c1 + 2]! * w10 + d[r1 + c0 + 2]! * w01 + d[r1 + c1 + 2]! * w11;
        }
      }
      const o = (j * size + i) * 3;
      tensor[o] = r * norm - 1;
      tensor[o + 1] = g * norm - 1;
      tensor[o + 2] = b * norm - 1;
    }
  }
  return { tensor, box: { rx: region.x, ry: region.y, scale, padX, padY } };
}

/** Find the score and regressor tensors of each anchor layer by shape and concatenate them. */
export function collectOutputs(spec: BlazeFaceSpec, outputs: Record<string, RunnerTensor>): { scores: Float32Array; boxes: Float32Array } {
  const stride = 4 + 2 * spec.keypoints;
  const counts = spec.layers.map((l) => (spec.inputSize / l.stride) ** 2 * l.anchorsPerCell);
  const total = counts.reduce((a, b) => a + b, 0);
  const scores = new Float32Array(total);
  const boxes = new Float32Array(total * stride);
  const tensors = Object.values(outputs);
  let off = 0;
  for (const n of counts) {
    const s = tensors.find((t) => t.data.length === n && t.dims[t.dims.length - 1] === 1);
    const r = tensors.find((t) => t.data.length === n * stride && t.dims[t.dims.length - 1] === stride);
    if (!s || !r) throw new Error(`face detector: no outputs shaped [1,${n},1] and [1,${n},${stride}]`);
    scores.set(s.data, off);
    boxes.set(r.data, off * stride);
    off += n;
  }
  return { scores, boxes };
}

/** Decode raw outputs into detections in model-input pixels, keeping scores >= threshold. */
export function decodeDetections(
  spec: BlazeFaceSpec,
  anchors: Float32Array,
  scores: Float32Array,
  boxes: Float32Array,
  threshold: number,
): RawDetection[] {
  const stride = 4 + 2 * spec.keypoints;
  const out: RawDetection[] = [];
  const S = spec.inputSize;
  const k = S / spec.coordScale;
  for (let i = 0; i < scores.length; i++) {
    const logit = Math.max(-100, Math.min(100, scores[i]!));
    const score = 1 / (1 + Math.exp(-logit));
    if (score < threshold) continue;
    const ax = anchors[2 * i]! * S;
    const ay = anchors[2 * i + 1]! * S;
    const b = i * stride;
    const cx = ax + boxes[b]! * k;
    const cy = ay + boxes[b + 1]! * k;
    const w = boxes[b + 2]! * k;
    const h = boxes[b + 3]! * k;
    const keypoints: number[] = [];
    for (let p = 0; p < spec.keypoints; p++) {
      keypoints.push(ax + boxes[b + 4 + 2 * p]! * k, ay + boxes[b + 5 + 2 * p]! * k);
    }
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, keypoints, score });
  }
  return out;
}

export function iou(a: RawDetection, b: RawDetection): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const ua = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return ua > 0 ? inter / ua : 0;
}

/**
 * Weighted NMS (MediaPipe's WEIGHTED overlap type): the best detection absorbs every detection
 * overlapping it by more than iouThreshold; box and keypoints become the score-weighted mean of
 * the cluster and the score stays the best one's.
 */
export function weightedNms(dets: RawDetection[], iouThreshold: number): RawDetection[] {
  let remaining = [...dets].sort((a, b) => b.score - a.score);
  const out: RawDetection[] = [];
  while (remaining.length > 0) {
    const top = remaining[0]!;
    const cluster: RawDetection[] = [];
    const rest: RawDetection[] = [];
    for (const d of remaining) (iou(top, d) > iouThreshold || d === top ? cluster : rest).push(d);
    let wsum = 0;
    const acc = { x1: 0, y1: 0, x2: 0, y2: 0, keypoints: new Array<number>(top.keypoints.length).fill(0) };
    for (const d of cluster) {
      wsum += d.score;
      acc.x1 += d.x1 * d.score;
      acc.y1 += d.y1 * d.score;
      acc.x2 += d.x2 * d.score;
      acc.y2 += d.y2 * d.score;
      d.keypoints.forEach((v, i) => (acc.keypoints[i] = acc.keypoints[i]! + v * d.score));
    }
    out.push({
      x1: acc.x1 / wsum,
      y1: acc.y1 / wsum,
      x2: acc.x2 / wsum,
      y2: acc.y2 / wsum,
      keypoints: acc.keypoints.map((v) => v / wsum),
      score: top.score,
    });
    remaining = rest;
  }
  return out;
}

/**
 * Drop detections that lie mostly inside a better one (intersection over the smaller box's area
 * above `threshold`): on faces that fill the frame BlazeFace also fires on parts of the face
 * (mouth and chin, one eye), which weighted NMS keeps because their IoU with the face is low.
 * Expects `dets` sorted by score, best first.
 */
export function suppressContained(dets: RawDetection[], threshold: number): RawDetection[] {
  const kept: RawDetection[] = [];
  const area = (d: RawDetection) => Math.max(0, d.x2 - d.x1) * Math.max(0, d.y2 - d.y1);
  for (const d of dets) {
    const inside = kept.some((k) => {
      const ix = Math.max(0, Math.min(d.x2, k.x2) - Math.max(d.x1, k.x1));
      const iy = Math.max(0, Math.min(d.y2, k.y2) - Math.max(d.y1, k.y1));
      return (ix * iy) / Math.max(1e-9, Math.min(area(d), area(k))) > threshold;
    });
    if (!inside) kept.push(d);
  }
  return kept;
}

/** Map a detection from model-input pixels back to the letterboxed image's pixels. */
export function unletterbox(d: RawDetection, lb: Letterbox): RawDetection {
  const fx = (x: number) => lb.rx + (x - lb.padX) / lb.scale;
  const fy = (y: number) => lb.ry + (y - lb.padY) / lb.scale;
  return {
    x1: fx(d.x1),
    y1: fy(d.y1),
    x2: fx(d.x2),
    y2: fy(d.y2),
    keypoints: d.keypoints.map((v, i) => (i % 2 === 0 ? fx(v) : fy(v))),
    score: d.score,
  };
}

/**
 * How BlazeFace's nose tip and mouth centre map to the template's nose tip and mouth corners,
 * in the eye frame: origin at the midpoint of the eyes, u along the eye line (image-left eye to
 * image-right eye), n = u turned 90 degrees toward the chin, unit = eye distance.
 * BlazeFace has no mouth corners, so they are ESTIMATED from the mouth centre:
 *   corner = mouthCentre -/+ mouthHalfWidth * u + mouthN * n,
 * and the nose is moved by noseN * n (BlazeFace's nose point sits lower than the template's).
 * Calibrated with tools/faces/calibrate-landmarks.ts on 17 FFHQ-aligned 512 crops
 * (../shared/testdata/grayscale_faces + ref_faces); offsets along u are set to 0 by left/right
 * symmetry (the measured ones, 0.07 and 0.05, come from the small sample). The tests evaluate
 * on other folders.
 */
export const LANDMARK_MODEL = { noseN: -0.1397, mouthHalfWidth: 0.4195, mouthN: -0.1497 };

export type LandmarkModel = typeof LANDMARK_MODEL;

/**
 * The five alignment landmarks from BlazeFace's six keypoints (right eye, left eye, nose tip,
 * mouth centre, right ear, left ear; "right" is the person's right, which is on the image's
 * left in an upright, unmirrored photo). Returns left eye, right eye, nose tip, left mouth
 * corner, right mouth corner as seen in the image of an upright face (for a rotated face the
 * order follows the face, which is what alignment needs).
 */
export function fivePointsFromBlazeFace(kp: readonly number[], model: LandmarkModel = LANDMARK_MODEL): [number, number][] {
  const le: [number, number] = [kp[0]!, kp[1]!];
  const re: [number, number] = [kp[2]!, kp[3]!];
  // u and n, both with the length of the eye distance; n is u turned +90 degrees (y down)
  const ux = re[0] - le[0];
  const uy = re[1] - le[1];
  const nx = -uy;
  const ny = ux;
  const mx = kp[6]!;
  const my = kp[7]!;
  const hw = model.mouthHalfWidth;
  const mn = model.mouthN;
  return [
    le,
    re,
    [kp[4]! + model.noseN * nx, kp[5]! + model.noseN * ny],
    [mx - hw * ux + mn * nx, my - hw * uy + mn * ny],
    [mx + hw * ux + mn * nx, my + hw * uy + mn * ny],
  ];
}

/**
 * Regions (in working-image pixels) to run the detector on:
 * - the whole image, letterboxed;
 * - the whole image zoomed out 2x (centred in a square twice its long side), because the
 *   back-camera BlazeFace misses faces that fill most of its input (big aligned crops);
 * - with tiles 'auto' and a working image longer than 2x the input, overlapping tiles of
 *   2x the input size (25% overlap), so faces down to ~1/25 of the long side are seen big enough.
 */
export function detectionRegions(
  width: number,
  height: number,
  inputSize: number,
  tiles: 'auto' | 'off',
): { x: number; y: number; width: number; height: number }[] {
  const long = Math.max(width, height);
  const regions = [
    { x: 0, y: 0, width, height },
    { x: width / 2 - long, y: height / 2 - long, width: 2 * long, height: 2 * long },
  ];
  if (tiles === 'off' || long <= 2 * inputSize) return regions;
  const tw = Math.min(width, 2 * inputSize);
  const th = Math.min(height, 2 * inputSize);
  const nx = width > tw ? Math.ceil((width - tw) / (0.75 * tw)) + 1 : 1;
  const ny = height > th ? Math.ceil((height - th) / (0.75 * th)) + 1 : 1;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = nx === 1 ? 0 : Math.round(((width - tw) * i) / (nx - 1));
      const y = ny === 1 ? 0 : Math.round(((height - th) * j) / (ny - 1));
      regions.push({ x, y, width: tw, height: th });
    }
  }
  return regions;
}

/** Raw detections (six keypoints, in photo pixels) before the five-point conversion. */
export async function detectRaw(
  photo: RgbaImage,
  run: DetectorRunner,
  spec: BlazeFaceSpec = BLAZEFACE_BACK,
  options: DetectOptions = {},
): Promise<RawDetection[]> {
  const threshold = Math.min(options.scoreThreshold ?? 0.6, options.atLeastOneAbove ?? 1);
  const iouThr = options.iouThreshold ?? 0.3;
  const workingSize = options.workingSize ?? 2048;
  const factor = Math.max(1, Math.ceil(Math.max(photo.width, photo.height) / workingSize));
  const work = factor > 1 ? downscaleBox(photo, factor) : photo;
  // the box filter maps photo pixel block [k*f, (k+1)*f) to working pixel k
  const sx = photo.width / work.width;
  const sy = photo.height / work.height;
  const anchors = generateAnchors(spec);
  const S = spec.inputSize;
  const all: RawDetection[] = [];
  for (const region of detectionRegions(work.width, work.height, S, options.tiles ?? 'auto')) {
    const { tensor, box } = letterbox(work, S, region);
    const outputs = await run(tensor, [1, S, S, 3]);
    const { scores, boxes } = collectOutputs(spec, outputs);
    for (const d of decodeDetections(spec, anchors, scores, boxes, threshold)) {
      const m = unletterbox(d, box);
      // drop tile detections cut by a tile border that is not the image border
      if (region.x >= 0 && region.y >= 0 && (region.width < work.width || region.height < work.height)) {
        const margin = 0.02 * region.width;
        const cut =
          (m.x1 < region.x + margin && region.x > 0) ||
          (m.y1 < region.y + margin && region.y > 0) ||
          (m.x2 > region.x + region.width - margin && region.x + region.width < work.width) ||
          (m.y2 > region.y + region.height - margin && region.y + region.height < work.height);
        if (cut) continue;
      }
      all.push(m);
    }
  }
  let merged = suppressContained(weightedNms(all, iouThr), options.containThreshold ?? 0.4);
  const strict = options.scoreThreshold ?? 0.6;
  const passing = merged.filter((d) => d.score >= strict);
  merged = passing.length > 0 || merged.length === 0 ? passing : [merged.reduce((a, b) => (b.score > a.score ? b : a))];
  // working pixel centres -> photo pixel centres
  const px = (x: number) => (x + 0.5) * sx - 0.5;
  const py = (y: number) => (y + 0.5) * sy - 0.5;
  return merged
    .map((d) => ({
      x1: (d.x1 + 0.5) * sx - 0.5,
      y1: (d.y1 + 0.5) * sy - 0.5,
      x2: (d.x2 + 0.5) * sx - 0.5,
      y2: (d.y2 + 0.5) * sy - 0.5,
      keypoints: d.keypoints.map((v, i) => (i % 2 === 0 ? px(v) : py(v))),
      score: d.score,
    }))
    .sort((a, b) => b.score - a.score)
    .slice(0, options.maxFaces ?? 32);
}

/** Faces in a whole photo: box and five landmarks in the photo's pixels, best score first. */
export async function detectFaces(
  photo: RgbaImage,
  run: DetectorRunner,
  spec: BlazeFaceSpec = BLAZEFACE_BACK,
  options: DetectOptions = {},
): Promise<DetectedFace[]> {
  const raw = await detectRaw(photo, run, spec, options);
  return raw.map((d) => ({
    box: { x: d.x1, y: d.y1, width: d.x2 - d.x1, height: d.y2 - d.y1 },
    landmarks: fivePointsFromBlazeFace(d.keypoints),
    score: d.score,
  }));
}
