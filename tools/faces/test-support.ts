/** Helpers shared by the faces tests (Node only: sharp, onnxruntime-node through tools/faces/node-io). */
import path from 'node:path';
import type { RgbaImage } from '../../workers/api';
import { createImage } from '../../workers/faces/image';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const detectorPath = path.join(repoRoot, 'public/models/common/face-detector/blazeface-back.onnx');
export const meshPath = path.join(repoRoot, 'public/models/common/face-detector/facemesh.onnx');

/** PSNR in dB over RGB, optionally only where mask(x, y) is true. */
export function psnr(a: RgbaImage, b: RgbaImage, mask?: (x: number, y: number) => boolean): number {
  let se = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (mask && !mask(x, y)) continue;
      const o = (y * a.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const d = a.data[o + c]! - b.data[o + c]!;
        se += d * d;
      }
      n += 3;
    }
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function solid(width: number, height: number, rgb: [number, number, number]): RgbaImage {
  const img = createImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  return img;
}

export function noise(width: number, height: number, seed: number): RgbaImage {
  const r = rng(seed);
  const img = createImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.set([r() * 255, r() * 255, r() * 255, 255], i * 4);
  return img;
}

export function gradient(width: number, height: number): RgbaImage {
  const img = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      img.data.set([(255 * x) / width, (255 * y) / height, 255 - (127 * (x + y)) / (width + height), 255], (y * width + x) * 4);
    }
  }
  return img;
}
