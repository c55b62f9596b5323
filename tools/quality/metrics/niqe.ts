/**
 * NIQE (Natural Image Quality Evaluator), the BasicSR / MATLAB algorithm, in plain TypeScript
 * (no DOM, no Node: usable in the worker, the CLI and tests).
 *
 * Steps, as BasicSR's `calculate_niqe(img, crop_border=0, convert_to='y')`:
 * 1. Y channel of BT.601 YCbCr as MATLAB rgb2ycbcr: Y = 16 + 65.481 R + 128.553 G + 24.966 B (R,G,B in [0,1]),
 *    then rounded to integers.
 * 2. Crop to a multiple of the 96x96 block size.
 * 3. Two scales; at each: MSCN = (I - mu) / (sigma + 1), mu and sigma from the 7x7 Gaussian window of the
 *    parameters file, convolution with edge replication (scipy mode 'nearest'); per block (96, then 48 px)
 *    18 features: AGGD fit of the MSCN block (alpha, mean of the two betas) and of its products with the
 *    four shifted copies (np.roll by (0,1), (1,0), (1,1), (1,-1)): alpha, mean, beta_l, beta_r.
 *    Between scales: MATLAB imresize(I/255, 0.5) bicubic with antialiasing, times 255.
 * 4. Mean and covariance of the 36-d block features (NaN rows dropped for the covariance), distance to the
 *    pristine model: sqrt((mu_p - mu)^T pinv((cov_p + cov)/2) (mu_p - mu)).
 */
import params from './niqe_pris_params.json';

interface NiqeParams {
  mu_pris_param: number[][];
  cov_pris_param: number[][];
  gaussian_window: number[][];
}

/** A grey image, row-major float64 */
export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

/** Y channel (MATLAB rgb2ycbcr, BT.601, range 16..235) of interleaved RGB(A) 8-bit or 0..255 float data, rounded. */
export function rgbToY(rgb: ArrayLike<number>, width: number, height: number, channels = 3): Plane {
  const data = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const r = rgb[i * channels]! / 255;
    const g = rgb[i * channels + 1]! / 255;
    const b = rgb[i * channels + 2]! / 255;
    data[i] = Math.round(65.481 * r + 128.553 * g + 24.966 * b + 16);
  }
  return { width, height, data };
}

// ---------- gamma function (Lanczos, g=7, n=9; ~1e-15 relative) ----------
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
export function gammaFn(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gammaFn(1 - x));
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

// alpha grid np.arange(0.2, 10.001, 0.001) and r(alpha) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))
const GAM_N = 9801;
let gamGrid: Float64Array | null = null;
let rGam: Float64Array | null = null;
function grids(): [Float64Array, Float64Array] {
  if (!gamGrid || !rGam) {
    gamGrid = new Float64Array(GAM_N);
    rGam = new Float64Array(GAM_N);
    for (let i = 0; i < GAM_N; i++) {
      const g = 0.2 + i * 0.001;
      gamGrid[i] = g;
      const r = 1 / g;
      rGam[i] = gammaFn(2 * r) ** 2 / (gammaFn(r) * gammaFn(3 * r));
    }
  }
  return [gamGrid, rGam];
}

/** AGGD parameters (alpha, beta_l, beta_r) of a sample, as BasicSR estimate_aggd_param. NaN when a side is empty. */
export function estimateAggd(block: Float64Array): [number, number, number] {
  const [gam, rg] = grids();
  let sl = 0,
    nl = 0,
    sr = 0,
    nr = 0,
    sabs = 0,
    ssq = 0;
  const n = block.length;
  for (let i = 0; i < n; i++) {
    const v = block[i]!;
    if (v < 0) {
      sl += v * v;
      nl++;
    } else if (v > 0) {
      sr += v * v;
      nr++;
    }
    sabs += Math.abs(v);
    ssq += v * v;
  }
  const leftStd = Math.sqrt(sl / nl);
  const rightStd = Math.sqrt(sr / nr);
  const gammahat = leftStd / rightStd;
  const rhat = (sabs / n) ** 2 / (ssq / n);
  const rhatnorm = (rhat * (gammahat ** 3 + 1) * (gammahat + 1)) / (gammahat ** 2 + 1) ** 2;
  let best = 0;
  let bestV = Infinity;
  if (Number.isNaN(rhatnorm)) {
    best = 0; // np.argmin of an all-NaN array returns 0
  } else {
    for (let i = 0; i < GAM_N; i++) {
      const d = (rg[i]! - rhatnorm) ** 2;
      if (d < bestV) {
        bestV = d;
        best = i;
      }
    }
  }
  const alpha = gam[best]!;
  const k = Math.sqrt(gammaFn(1 / alpha) / gammaFn(3 / alpha));
  return [alpha, leftStd * k, rightStd * k];
}

function blockFeatures(block: Float64Array, bh: number, bw: number): number[] {
  const feat: number[] = [];
  const [a0, l0, r0] = estimateAggd(block);
  feat.push(a0, (l0 + r0) / 2);
  const shifts: [number, number][] = [
    [0, 1],
    [1, 0],
    [1, 1],
    [1, -1],
  ];
  const prod = new Float64Array(bh * bw);
  for (const [s0, s1] of shifts) {
    for (let y = 0; y < bh; y++) {
      const ys = (((y - s0) % bh) + bh) % bh;
      for (let x = 0; x < bw; x++) {
        const xs = (((x - s1) % bw) + bw) % bw;
        prod[y * bw + x] = block[y * bw + x]! * block[ys * bw + xs]!;
      }
    }
    const [a, l, r] = estimateAggd(prod);
    const mean = (r - l) * (gammaFn(2 / a) / gammaFn(1 / a));
    feat.push(a, mean, l, r);
  }
  return feat;
}

/** 2-D correlation with a (2k+1)^2 window, edge replication (scipy.ndimage.convolve mode 'nearest'; window symmetric). */
function filterNearest(p: Plane, win: number[][]): Float64Array {
  const { width: w, height: h, data } = p;
  const k = (win.length - 1) / 2;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -k; dy <= k; dy++) {
        const yy = Math.min(h - 1, Math.max(0, y + dy));
        const row = win[k - dy]!;
        for (let dx = -k; dx <= k; dx++) {
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          // convolve flips the kernel: index by (-dy, -dx)
          s += row[k - dx]! * data[yy * w + xx]!;
        }
      }
      out[y * w + x] = s;
    }
  }
  return out;
}

function cubic(x: number): number {
  const a = Math.abs(x);
  const a2 = a * a;
  const a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

/** MATLAB imresize weights (bicubic, antialiased when shrinking) for one axis: per output, (indices 0-based, weights). */
function resizeWeights(inLen: number, outLen: number, scale: number): { idx: Int32Array[]; w: Float64Array[] } {
  let kw = 4;
  const aa = scale < 1;
  if (aa) kw = kw / scale;
  const p = Math.ceil(kw) + 2;
  const idx: Int32Array[] = [];
  const ws: Float64Array[] = [];
  for (let o = 1; o <= outLen; o++) {
    const u = o / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kw / 2);
    const ii = new Int32Array(p);
    const ww = new Float64Array(p);
    let sum = 0;
    for (let j = 0; j < p; j++) {
      const ind = left + j; // 1-based
      const d = u - ind;
      const v = aa ? scale * cubic(d * scale) : cubic(d);
      ww[j] = v;
      sum += v;
      // MATLAB 'symmetric' padding of 1-based indices
      let m = ind;
      while (m < 1 || m > inLen) m = m < 1 ? 1 - m : 2 * inLen + 1 - m;
      ii[j] = m - 1;
    }
    for (let j = 0; j < p; j++) ww[j] = ww[j]! / sum;
    idx.push(ii);
    ws.push(ww);
  }
  return { idx, w: ws };
}

/** MATLAB-style imresize (bicubic, antialiasing) of a plane by a scale factor; rows (H) first, then columns. */
export function imresize(p: Plane, scale: number): Plane {
  const outH = Math.ceil(p.height * scale);
  const outW = Math.ceil(p.width * scale);
  const wh = resizeWeights(p.height, outH, scale);
  const tmp = new Float64Array(outH * p.width);
  for (let o = 0; o < outH; o++) {
    const ii = wh.idx[o]!;
    const ww = wh.w[o]!;
    for (let x = 0; x < p.width; x++) {
      let s = 0;
      for (let j = 0; j < ii.length; j++) s += ww[j]! * p.data[ii[j]! * p.width + x]!;
      tmp[o * p.width + x] = s;
    }
  }
  const wwid = resizeWeights(p.width, outW, scale);
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    for (let o = 0; o < outW; o++) {
      const ii = wwid.idx[o]!;
      const ww = wwid.w[o]!;
      let s = 0;
      for (let j = 0; j < ii.length; j++) s += ww[j]! * tmp[y * p.width + ii[j]!]!;
      out[y * outW + o] = s;
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Symmetric eigen-decomposition (cyclic Jacobi). Returns eigenvalues and column eigenvectors (row-major n x n). */
function jacobiEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** Moore-Penrose pseudo-inverse of a symmetric matrix (numpy pinv cut-off rcond = 1e-15 * max |eigenvalue|). */
export function pinvSym(A: Float64Array, n: number): Float64Array {
  const { values, vectors } = jacobiEigen(A, n);
  let maxAbs = 0;
  for (const x of values) maxAbs = Math.max(maxAbs, Math.abs(x));
  const tol = 1e-15 * maxAbs;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lam = values[k]!;
    if (Math.abs(lam) <= tol) continue;
    const inv = 1 / lam;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * inv;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + vik * vectors[j * n + k]!;
    }
  }
  return out;
}

export interface NiqeOptions {
  blockSize?: number;
}

/** NIQE of a grey plane with values 0..255 (already the rounded Y channel). Lower is better. */
export function niqePlane(input: Plane, opts: NiqeOptions = {}): number {
  const P = params as NiqeParams;
  const bs = opts.blockSize ?? 96;
  const nbh = Math.floor(input.height / bs);
  const nbw = Math.floor(input.width / bs);
  if (nbh < 1 || nbw < 1) throw new Error(`NIQE needs an image of at least ${bs}x${bs}`);
  // crop
  let img: Plane = { width: nbw * bs, height: nbh * bs, data: new Float64Array(nbw * bs * nbh * bs) };
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) img.data[y * img.width + x] = input.data[y * input.width + x]!;
  }
  const feats: number[][] = [];
  for (let i = 0; i < nbh * nbw; i++) feats.push([]);
  for (const scale of [1, 2]) {
    const mu = filterNearest(img, P.gaussian_window);
    const sq: Plane = { width: img.width, height: img.height, data: img.data.map((v) => v * v) };
    const mu2 = filterNearest(sq, P.gaussian_window);
    const norm = new Float64Array(img.data.length);
    for (let i = 0; i < norm.length; i++) {
      const sigma = Math.sqrt(Math.abs(mu2[i]! - mu[i]! ** 2));
      norm[i] = (img.data[i]! - mu[i]!) / (sigma + 1);
    }
    let b = 0;
    // BasicSR iterates idx_w outer, idx_h inner
    for (let bx = 0; bx < nbw; bx++) {
      for (let by = 0; by < nbh; by++) {
        const y0 = Math.floor((by * bs) / scale);
        const y1 = Math.floor(((by + 1) * bs) / scale);
        const x0 = Math.floor((bx * bs) / scale);
        const x1 = Math.floor(((bx + 1) * bs) / scale);
        const bh = y1 - y0;
        const bw = x1 - x0;
        const blk = new Float64Array(bh * bw);
        for (let y = 0; y < bh; y++) {
          for (let x = 0; x < bw; x++) blk[y * bw + x] = norm[(y0 + y) * img.width + x0 + x]!;
        }
        feats[b++]!.push(...blockFeatures(blk, bh, bw));
      }
    }
    if (scale === 1) {
      const scaled: Plane = { width: img.width, height: img.height, data: img.data.map((v) => v / 255) };
      const r = imresize(scaled, 0.5);
      // BasicSR resizes in float32
      img = { width: r.width, height: r.height, data: r.data.map((v) => Math.fround(Math.fround(v) * 255)) };
    }
  }
  const d = 36;
  const mu = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let s = 0,
      c = 0;
    for (const f of feats) {
      const v = f[k]!;
      if (!Number.isNaN(v)) {
        s += v;
        c++;
      }
    }
    mu[k] = s / c;
  }
  const rows = feats.filter((f) => f.every((v) => !Number.isNaN(v)));
  const rm = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (const f of rows) s += f[k]!;
    rm[k] = s / rows.length;
  }
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (const f of rows) s += (f[i]! - rm[i]!) * (f[j]! - rm[j]!);
      const v = s / (rows.length - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) m[i * d + j] = (P.cov_pris_param[i]![j]! + cov[i * d + j]!) / 2;
  }
  const inv = pinvSym(m, d);
  const diff = new Float64Array(d);
  for (let i = 0; i < d; i++) diff[i] = P.mu_pris_param[0]![i]! - mu[i]!;
  let q = 0;
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += inv[i * d + j]! * diff[j]!;
    q += diff[i]! * s;
  }
  return Math.sqrt(q);
}

/** NIQE of an interleaved RGB(A) image with 0..255 values (Y channel, no border crop, 96x96 blocks). */
export function niqe(rgb: ArrayLike<number>, width: number, height: number, channels = 3, opts: NiqeOptions = {}): number {
  return niqePlane(rgbToY(rgb, width, height, channels), opts);
}
