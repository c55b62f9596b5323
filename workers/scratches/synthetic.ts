/**
 * Synthetic scratches painted onto a photo, for measuring the detector on photos other than the one real scratched
 * photo with a mask (../shared/testdata/old_photos/med_scratch/0_7.jpg). Not used by the app: tests and
 * tools/scratches/measure.ts only.
 *
 * A scratch is lost emulsion: a thin, gently curved stroke (a quadratic Bezier) 1.5-3.5 px wide at 512 px with a soft
 * edge, showing the paper (a light grey near the photo's own white) at 60-100% opacity.
 */
import type { RgbaImage } from '../api';

/** Small deterministic PRNG (mulberry32): the same seed paints the same scratches. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticScratches {
  image: RgbaImage;
  /** 1 where a scratch was painted (opacity at least a third) */
  truth: Uint8Array;
}

/** Paints `count` scratches on a copy of `image`; the truth mask marks the painted pixels. */
export function paintScratches(image: RgbaImage, count: number, seed: number): SyntheticScratches {
  const { width: w, height: h } = image;
  const scale = Math.max(w, h) / 512;
  const rand = prng(seed);
  const data = new Uint8ClampedArray(image.data);
  const truth = new Uint8Array(w * h);
  const alpha = new Float32Array(w * h);
  for (let s = 0; s < count; s++) {
    // a stroke 120-420 px long (at 512) across the photo, bent by up to 15% of its length
    const len = (120 + rand() * 300) * scale;
    const angle = rand() * Math.PI;
    const cx = w * (0.15 + 0.7 * rand());
    const cy = h * (0.15 + 0.7 * rand());
    const dx = (Math.cos(angle) * len) / 2;
    const dy = (Math.sin(angle) * len) / 2;
    const bend = (rand() - 0.5) * 0.3 * len;
    const p0 = [cx - dx, cy - dy];
    const p2 = [cx + dx, cy + dy];
    const p1 = [cx - Math.sin(angle) * bend, cy + Math.cos(angle) * bend];
    const halfWidth = ((1.5 + rand() * 2) * scale) / 2;
    const opacity = 0.6 + 0.4 * rand();
    const steps = Math.ceil(len * 2);
    for (let i = 0; i <= steps; i++) {
      const t = i / steps;
      const x = (1 - t) * (1 - t) * (p0[0] as number) + 2 * (1 - t) * t * (p1[0] as number) + t * t * (p2[0] as number);
      const y = (1 - t) * (1 - t) * (p0[1] as number) + 2 * (1 - t) * t * (p1[1] as number) + t * t * (p2[1] as number);
      const r = Math.ceil(halfWidth + 1);
      for (let yy = Math.floor(y) - r; yy <= Math.ceil(y) + r; yy++) {
        if (yy < 0 || yy >= h) continue;
        for (let xx = Math.floor(x) - r; xx <= Math.ceil(x) + r; xx++) {
          if (xx < 0 || xx >= w) continue;
          const d = Math.hypot(xx - x, yy - y);
          // full inside the half width, a 1 px linear fall-off outside it
          const a = opacity * Math.min(1, Math.max(0, halfWidth + 0.5 - d));
          const j = yy * w + xx;
          if (a > (alpha[j] as number)) alpha[j] = a;
        }
      }
    }
  }
  // the paper: the photo's light grey (its 99th percentile of luminance), slightly warm, with grain
  const lum: number[] = [];
  for (let i = 0; i < w * h; i += 7)
    lum.push(0.299 * (data[i * 4] as number) + 0.587 * (data[i * 4 + 1] as number) + 0.114 * (data[i * 4 + 2] as number));
  lum.sort((a, b) => a - b);
  const paper = Math.max(200, lum[Math.floor(lum.length * 0.99)] as number);
  for (let j = 0; j < w * h; j++) {
    const a = alpha[j] as number;
    if (a <= 0) continue;
    if (a >= 1 / 3) truth[j] = 1;
    const grain = (rand() - 0.5) * 10;
    for (let c = 0; c < 3; c++) {
      const v = data[j * 4 + c] as number;
      data[j * 4 + c] = Math.round(v * (1 - a) + (paper + grain - c * 2) * a);
    }
  }
  return { image: { width: w, height: h, data }, truth };
}
