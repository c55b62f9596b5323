/**
 * Test-side preprocessing for the identity model: an aligned face PNG -> (1,3,112,112) RGB in [-1,1].
 * Shared by the TF.js reference generator (tools/identity/tfjs-reference.ts) and the CI tests, so
 * both feed bit-identical tensors.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const identityDir = path.join(repoRoot, 'public', 'models', 'common', 'identity');
export const fixtureDir = path.join(repoRoot, 'tests', 'fixtures', 'identity');

export type Crop = 'full' | 'tight';

/**
 * 'full': the whole aligned 512 crop (what the PGDiff reference feeds ArcFace).
 * 'tight': the central 400x400 of a 512 crop (offset 56), roughly the ArcFace 112 framing.
 */
export async function loadFace(file: string, crop: Crop, size = 112): Promise<Float32Array> {
  let img = sharp(file).removeAlpha().toColourspace('srgb');
  const meta = await sharp(file).metadata();
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (crop === 'tight') {
    const side = Math.round((Math.min(w, h) * 400) / 512);
    img = img.extract({ left: Math.round((w - side) / 2), top: Math.round((h - side) / 2), width: side, height: side });
  }
  // linear kernel = antialiased triangle filter when shrinking (like torch bilinear antialias)
  const { data, info } = await img.resize(size, size, { kernel: 'linear', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  const out = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) out[c * size * size + i] = (data[i * 3 + c]! / 255) * 2 - 1;
  }
  return out;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** A cheap fingerprint of an input tensor, to prove two runs fed the same pixels. */
export function checksum(x: Float32Array): { sum: number; sumAbs: number; weighted: number } {
  let sum = 0;
  let sumAbs = 0;
  let weighted = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    sumAbs += Math.abs(x[i]!);
    weighted += x[i]! * ((i % 97) + 1);
  }
  return { sum, sumAbs, weighted };
}
