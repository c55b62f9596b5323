/**
 * Automatic scratch detection for old photos (pure TypeScript, no DOM): thin bright (and optionally dark) lines and
 * bright blotches become a mask (white = scratch) that the person then edits.
 *
 * Method (classical: morphology and a multi-orientation line detector; sizes given at 512 px and scaled):
 * 1. luminance L, lightly denoised with a 3x3 box (JPEG noise);
 * 2. white top-hat T = L - open(L, 7x7 square): what is brighter than its surroundings and thinner than the
 *    square (dark lines: black top-hat close(L) - L, off by default: eyelids, brows and lips are thin dark lines);
 * 3. line detector: R = max over 12 orientations of the mean of T along a 21 px segment, minus the mean of T in
 *    the 21x21 square around it. A line scores its full contrast in one direction; a dot scores 1/21 of it;
 *    texture (hair, knitwear, grain) is high in every direction and cancels against the square's mean. The segment
 *    means are running sums along digital lines (morphology.ts lineMean) and the square min/max filters are van
 *    Herk / Gil-Werman: the cost per pixel does not grow with the segment or the square;
 * 4. hysteresis on R (seed 22, follow 11 grey levels); connected components smaller than 30 px or not elongated
 *    (length^2 / area from the second moments under 4: spots and knit) are dropped;
 * 5. blotches: L - open(L, 25x25) above 25 grey levels, at least 40 px, with a sharp edge (mean gradient on the
 *    border at least 0.15 of the contrast per pixel: a cut edge, where a highlight fades out), flat (std <= 12), not
 *    a long band (elongation <= 8: a print's white border is one) and near the photo's white (mean >= 0.9 of its
 *    99.5th percentile) inside: lost emulsion shows the paper; eyes, teeth and lips are bright but not flat white;
 * 6. dilate by 1 px so the mask covers the scratch edges.
 */
import type { RgbaImage } from '../api';
import type { Plane } from './morphology';
import { boxMean, lineMean, squareFilter, squareOpen, squareClose } from './morphology';

export interface ScratchOptions {
  /** detect bright scratches (the usual cracked-emulsion kind) */
  bright: boolean;
  /** detect dark scratches too (more false positives on facial features) */
  dark: boolean;
  /** widest scratch, in pixels at 512 px (scaled with the image) */
  maxWidth: number;
  /** length of the line detector's segment, in pixels at 512 px */
  lineLength: number;
  /** number of line orientations over 180 degrees */
  orientations: number;
  /** seed threshold on the line response, in grey levels (0-255) */
  high: number;
  /** follow threshold, in grey levels */
  low: number;
  /** connected components smaller than this (pixels at 512 px) are dropped */
  minArea: number;
  /** components rounder than this (length^2 / area) are dropped: spots, not scratches */
  minElongation: number;
  /** detect bright blotches (lost emulsion) */
  blotches: boolean;
  /** widest blotch, in pixels at 512 px */
  blotchSize: number;
  /** a blotch is this many grey levels brighter than its surroundings */
  blotchContrast: number;
  /** smallest blotch, in pixels at 512 px */
  blotchMinArea: number;
  /** a sharp edge: mean gradient on the border (per pixel at 512 px) at least this share of the blotch's contrast */
  blotchEdge: number;
  /** a blotch's mean is at least this share of the photo's white (99.5th percentile) */
  blotchWhite: number;
  /** a blotch is flat inside: standard deviation at most this many grey levels */
  blotchFlat: number;
  /** final dilation radius in pixels */
  grow: number;
}

export const DEFAULT_SCRATCH_OPTIONS: ScratchOptions = {
  bright: true,
  dark: false,
  maxWidth: 7,
  lineLength: 21,
  orientations: 12,
  high: 22,
  low: 11,
  minArea: 30,
  minElongation: 4,
  blotches: true,
  blotchSize: 25,
  blotchContrast: 25,
  blotchMinArea: 40,
  blotchEdge: 0.15,
  blotchWhite: 0.9,
  blotchFlat: 12,
  grow: 1,
};

export function luminance(image: RgbaImage): Plane {
  const n = image.width * image.height;
  const data = new Float32Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) {
    data[i] = 0.299 * (d[i * 4] as number) + 0.587 * (d[i * 4 + 1] as number) + 0.114 * (d[i * 4 + 2] as number);
  }
  return { width: image.width, height: image.height, data };
}

function boxBlur3(p: Plane): Plane {
  return boxMean(p, 1);
}

/** Line detector: max over orientations of the mean along a segment, minus the mean over the square around it. */
function lineResponse(t: Plane, halfLength: number, orientations: number): Float32Array {
  const best = new Float32Array(t.data.length).fill(-Infinity);
  for (let k = 0; k < orientations; k++) {
    const o = lineMean(t, halfLength, (Math.PI * k) / orientations);
    for (let i = 0; i < best.length; i++) if ((o[i] as number) > (best[i] as number)) best[i] = o[i] as number;
  }
  const local = boxMean(t, halfLength).data;
  for (let i = 0; i < best.length; i++) best[i] = (best[i] as number) - (local[i] as number);
  return best;
}

interface Component {
  pixels: number[];
  hasSeed: boolean;
}

/** Connected components (8-neighbour) of `on`, each with its pixels and whether it touches a seed. */
function components(on: Uint8Array, seed: Uint8Array | undefined, width: number, height: number, visit: (c: Component) => void): void {
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  for (let start = 0; start < on.length; start++) {
    if (!on[start] || seen[start]) continue;
    const pixels: number[] = [];
    let hasSeed = false;
    stack.push(start);
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop() as number;
      pixels.push(i);
      if (!seed || seed[i]) hasSeed = true;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (on[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    visit({ pixels, hasSeed });
  }
}

/** length^2 / area from the component's second moments: 1.33 for a square or disc, 1.33 * length / width for a bar. */
export function elongation(pixels: readonly number[], width: number): number {
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const i of pixels) {
    const x = i % width;
    const y = (i - x) / width;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const n = pixels.length;
  const mx = sx / n;
  const my = sy / n;
  const cxx = sxx / n - mx * mx + 1 / 12; // + 1/12: a pixel is a unit square, not a point
  const cyy = syy / n - my * my + 1 / 12;
  const cxy = sxy / n - mx * my;
  const tr = cxx + cyy;
  const l1 = tr / 2 + Math.sqrt(Math.max(0, (tr * tr) / 4 - (cxx * cyy - cxy * cxy)));
  const length = 4 * Math.sqrt(l1);
  return (length * length) / n;
}

function dilateBinary(m: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return m;
  const p = squareFilter({ width, height, data: Float32Array.from(m) }, radius, 'max');
  return Uint8Array.from(p.data);
}

/** Below this size scratches are a pixel wide or less: detect on a bilinear enlargement instead. */
const MIN_WORKING_SIDE = 256;

function upscale(image: RgbaImage, k: number): RgbaImage {
  const w = image.width * k;
  const h = image.height * k;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(image.height - 1, Math.max(0, (y + 0.5) / k - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(image.width - 1, Math.max(0, (x + 0.5) / k - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const tx = fx - x0;
      for (let c = 0; c < 4; c++) {
        const a = image.data[(y0 * image.width + x0) * 4 + c] as number;
        const b = image.data[(y0 * image.width + x1) * 4 + c] as number;
        const d = image.data[(y1 * image.width + x0) * 4 + c] as number;
        const e = image.data[(y1 * image.width + x1) * 4 + c] as number;
        data[(y * w + x) * 4 + c] = (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
      }
    }
  }
  return { width: w, height: h, data };
}

/** Binary scratch mask: 1 = scratch. Exposed for tests and tuning. */
export function detectScratchMask(image: RgbaImage, options: Partial<ScratchOptions> = {}): Uint8Array {
  const side = Math.max(image.width, image.height);
  if (side < MIN_WORKING_SIDE) {
    // small crops (e.g. 64 px model sets): detect at k times the size, then a pixel is a scratch
    // where at least a quarter of its k x k block is
    const k = Math.ceil(MIN_WORKING_SIDE / side);
    const big = detectAtSize(upscale(image, k), options);
    const out = new Uint8Array(image.width * image.height);
    const bw = image.width * k;
    for (let y = 0; y < image.height; y++)
      for (let x = 0; x < image.width; x++) {
        let n = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) n += big[(y * k + dy) * bw + x * k + dx] as number;
        out[y * image.width + x] = n * 4 >= k * k ? 1 : 0;
      }
    return out;
  }
  return detectAtSize(image, options);
}

/** Thin, long structures: the line detector on the top-hat, hysteresis, elongated components. */
function detectLines(L: Plane, o: ScratchOptions, scale: number): Uint8Array {
  const { width, height } = L;
  const widthR = Math.max(1, Math.round((o.maxWidth * scale) / 2));
  const halfLen = Math.max(2, Math.round((o.lineLength * scale) / 2));
  const minArea = Math.max(1, Math.round(o.minArea * scale * scale));
  const response = new Float32Array(width * height).fill(-Infinity);
  const merge = (r: Float32Array) => {
    for (let i = 0; i < response.length; i++) if ((r[i] as number) > (response[i] as number)) response[i] = r[i] as number;
  };
  if (o.bright) {
    const open = squareOpen(L, widthR);
    const t = new Float32Array(L.data.length);
    for (let i = 0; i < t.length; i++) t[i] = (L.data[i] as number) - (open.data[i] as number);
    merge(lineResponse({ width, height, data: t }, halfLen, o.orientations));
  }
  if (o.dark) {
    const close = squareClose(L, widthR);
    const t = new Float32Array(L.data.length);
    for (let i = 0; i < t.length; i++) t[i] = (close.data[i] as number) - (L.data[i] as number);
    merge(lineResponse({ width, height, data: t }, halfLen, o.orientations));
  }
  const strong = new Uint8Array(width * height);
  const weak = new Uint8Array(width * height);
  for (let i = 0; i < response.length; i++) {
    const v = response[i] as number;
    if (v >= o.high) strong[i] = 1;
    if (v >= o.low) weak[i] = 1;
  }
  const out = new Uint8Array(width * height);
  components(weak, strong, width, height, (c) => {
    if (c.hasSeed && c.pixels.length >= minArea && elongation(c.pixels, width) >= o.minElongation) for (const i of c.pixels) out[i] = 1;
  });
  return out;
}

/**
 * Bright blotches: regions much brighter than their surroundings (white top-hat with a large square), big enough,
 * with a sharp border (lost emulsion is cut, a highlight fades out) and mostly paper-white inside.
 */
function detectBlotches(L: Plane, o: ScratchOptions, scale: number): Uint8Array {
  const { width, height } = L;
  const r = Math.max(2, Math.round((o.blotchSize * scale) / 2));
  const minArea = Math.max(4, Math.round(o.blotchMinArea * scale * scale));
  const open = squareOpen(L, r).data;
  const on = new Uint8Array(width * height);
  for (let i = 0; i < on.length; i++) if ((L.data[i] as number) - (open[i] as number) >= o.blotchContrast) on[i] = 1;
  const out = new Uint8Array(width * height);
  const d = L.data;
  const at = (x: number, y: number) => d[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))] as number;
  // the edge is measured over 2 px at 512 (a JPEG'd sharp edge spreads over about that)
  const step = Math.max(1, Math.round(2 * scale));
  const white = o.blotchWhite * percentile(d, 0.995);
  components(on, undefined, width, height, (c) => {
    if (c.pixels.length < minArea) return;
    let sum = 0;
    let sum2 = 0;
    let contrast = 0;
    for (const i of c.pixels) {
      const v = d[i] as number;
      sum += v;
      sum2 += v * v;
      contrast += v - (open[i] as number);
    }
    contrast /= c.pixels.length;
    const mean = sum / c.pixels.length;
    const std = Math.sqrt(Math.max(0, sum2 / c.pixels.length - mean * mean));
    // a long white band is the print's own border (or a line, handled above), not a blotch
    if (mean < white || std > o.blotchFlat || elongation(c.pixels, width) > 8) return;
    let edge = 0;
    let border = 0;
    for (const i of c.pixels) {
      const x = i % width;
      const y = (i - x) / width;
      const inside = (xx: number, yy: number) => xx >= 0 && yy >= 0 && xx < width && yy < height && on[yy * width + xx] === 1;
      if (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)) continue;
      border++;
      const gx = at(x + step, y) - at(x - step, y);
      const gy = at(x, y + step) - at(x, y - step);
      edge += Math.hypot(gx, gy) / (2 * step);
    }
    if (border > 0 && edge / border >= (o.blotchEdge * contrast) / scale) for (const i of c.pixels) out[i] = 1;
  });
  return out;
}

/** The q-quantile of grey levels 0-255 (histogram). */
function percentile(data: Float32Array, q: number): number {
  const hist = new Uint32Array(256);
  for (const v of data) hist[Math.min(255, Math.max(0, Math.round(v)))]! += 1;
  let acc = 0;
  for (let g = 0; g < 256; g++) {
    acc += hist[g] as number;
    if (acc >= q * data.length) return g;
  }
  return 255;
}

function detectAtSize(image: RgbaImage, options: Partial<ScratchOptions>): Uint8Array {
  const o = { ...DEFAULT_SCRATCH_OPTIONS, ...options };
  const { width, height } = image;
  const scale = Math.max(width, height) / 512;
  const L = boxBlur3(luminance(image));
  const found = detectLines(L, o, scale);
  if (o.blotches) {
    const b = detectBlotches(L, o, scale);
    for (let i = 0; i < found.length; i++) found[i] = (found[i] as number) | (b[i] as number);
  }
  return dilateBinary(found, width, height, o.grow);
}

/** Binary mask (1 = scratch) to an RgbaImage: white = missing, black elsewhere, opaque. */
export function binaryToRgba(mask: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 255 : 0;
    data[i * 4] = v;
    data[i * 4 + 1] = v;
    data[i * 4 + 2] = v;
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

/** EngineApi.detectScratches: same size as the input, white = scratch. */
export function detectScratches(image: RgbaImage, options: Partial<ScratchOptions> = {}): RgbaImage {
  if (image.data.length !== image.width * image.height * 4) throw new Error('detectScratches: bad RGBA buffer');
  return binaryToRgba(detectScratchMask(image, options), image.width, image.height);
}
