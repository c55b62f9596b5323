/**
 * Grey-scale morphology on Float32 planes (row-major, width x height), borders replicated.
 * Pure TypeScript: runs in the worker, in Node tests and anywhere else.
 */

export interface Plane {
  width: number;
  height: number;
  data: Float32Array;
}

type Op = 'min' | 'max';

/**
 * Running min or max over a (2r+1) window along rows or columns (borders replicated), van Herk / Gil-Werman: about
 * three comparisons a pixel whatever the radius.
 */
function reduce1d(src: Plane, radius: number, horizontal: boolean, op: Op): Plane {
  const { width: w, height: h, data } = src;
  const out = new Float32Array(w * h);
  const isMin = op === 'min';
  const n = horizontal ? w : h; // samples along one line
  const lines = horizontal ? h : w;
  const step = horizontal ? 1 : w;
  const k = 2 * radius + 1;
  const blocks = Math.ceil((n + 2 * radius) / k) * k;
  const buf = new Float32Array(blocks);
  const pre = new Float32Array(blocks); // running best from each block's start
  const suf = new Float32Array(blocks); // running best to each block's end
  for (let line = 0; line < lines; line++) {
    const base = horizontal ? line * w : line;
    for (let i = 0; i < blocks; i++) {
      const j = i < radius ? 0 : i - radius < n ? i - radius : n - 1;
      buf[i] = data[base + j * step] as number;
    }
    for (let b = 0; b < blocks; b += k) {
      let acc = buf[b] as number;
      pre[b] = acc;
      for (let i = b + 1; i < b + k; i++) {
        const v = buf[i] as number;
        if (isMin ? v < acc : v > acc) acc = v;
        pre[i] = acc;
      }
      acc = buf[b + k - 1] as number;
      suf[b + k - 1] = acc;
      for (let i = b + k - 2; i >= b; i--) {
        const v = buf[i] as number;
        if (isMin ? v < acc : v > acc) acc = v;
        suf[i] = acc;
      }
    }
    // the window of output x covers padded samples x .. x + 2r
    for (let x = 0; x < n; x++) {
      const u = suf[x] as number;
      const v = pre[x + k - 1] as number;
      out[base + x * step] = isMin ? (u < v ? u : v) : u > v ? u : v;
    }
  }
  return { width: w, height: h, data: out };
}

/** Erosion (min) or dilation (max) with a (2r+1) square, separably. */
export function squareFilter(src: Plane, radius: number, op: Op): Plane {
  if (radius <= 0) return { ...src, data: src.data.slice() };
  return reduce1d(reduce1d(src, radius, true, op), radius, false, op);
}

export function squareOpen(src: Plane, radius: number): Plane {
  return squareFilter(squareFilter(src, radius, 'min'), radius, 'max');
}

export function squareClose(src: Plane, radius: number): Plane {
  return squareFilter(squareFilter(src, radius, 'max'), radius, 'min');
}

/** Integer offsets of a centred digital line segment of the given half-length at angle theta. */
export function lineOffsets(halfLength: number, theta: number): [number, number][] {
  const seen = new Set<string>();
  const out: [number, number][] = [];
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  for (let i = -halfLength; i <= halfLength; i++) {
    const dx = Math.round(i * c) || 0; // no -0
    const dy = Math.round(i * s) || 0;
    const key = `${dx},${dy}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push([dx, dy]);
    }
  }
  return out;
}

/** min or max over a structuring element given as offsets (borders replicated). */
export function offsetFilter(src: Plane, offsets: [number, number][], op: Op): Plane {
  const { width: w, height: h, data } = src;
  const out = new Float32Array(w * h);
  const isMin = op === 'min';
  let m = 0;
  for (const [dx, dy] of offsets) m = Math.max(m, Math.abs(dx), Math.abs(dy));
  const flat = Int32Array.from(offsets.map(([dx, dy]) => dy * w + dx));
  const nOff = flat.length;
  for (let y = 0; y < h; y++) {
    const inner = y >= m && y < h - m;
    for (let x = 0; x < w; x++) {
      let acc = isMin ? Infinity : -Infinity;
      if (inner && x >= m && x < w - m) {
        // fast path: no clamping needed
        const base = y * w + x;
        if (isMin) {
          for (let k = 0; k < nOff; k++) {
            const v = data[base + (flat[k] as number)] as number;
            if (v < acc) acc = v;
          }
        } else {
          for (let k = 0; k < nOff; k++) {
            const v = data[base + (flat[k] as number)] as number;
            if (v > acc) acc = v;
          }
        }
      } else {
        for (const [dx, dy] of offsets) {
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          const v = data[yy * w + xx] as number;
          if (isMin ? v < acc : v > acc) acc = v;
        }
      }
      out[y * w + x] = acc;
    }
  }
  return { width: w, height: h, data: out };
}

/** Mean over a (2r+1) square (summed-area table), borders clamped. */
export function boxMean(src: Plane, radius: number): Plane {
  const { width: w, height: h, data } = src;
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += data[y * w + x] as number;
      sat[(y + 1) * (w + 1) + x + 1] = (sat[y * (w + 1) + x + 1] as number) + row;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - radius);
    const y1 = Math.min(h, y + radius + 1);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - radius);
      const x1 = Math.min(w, x + radius + 1);
      const s =
        (sat[y1 * (w + 1) + x1] as number) -
        (sat[y0 * (w + 1) + x1] as number) -
        (sat[y1 * (w + 1) + x0] as number) +
        (sat[y0 * (w + 1) + x0] as number);
      out[y * w + x] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return { width: w, height: h, data: out };
}

/** Opening with a line segment: keeps bright structures that contain such a segment. */
export function lineOpen(src: Plane, halfLength: number, theta: number): Plane {
  const offs = lineOffsets(halfLength, theta);
  const reflected = offs.map(([dx, dy]) => [-dx, -dy] as [number, number]);
  return offsetFilter(offsetFilter(src, offs, 'min'), reflected, 'max');
}

/**
 * Mean of `src` along a centred digital segment at angle theta, for every pixel, in O(1) a pixel whatever the length.
 * The image is cut into the digital lines y = q + round(x * slope) (x and y swapped for steep angles): every pixel
 * lies on exactly one, and a running sum along it gives the segment sums. The segment spans `halfLength` pixels
 * either side along the line (halfLength * max(|cos|, |sin|) along the major axis); at the image border only the
 * pixels inside are averaged.
 */
export function lineMean(src: Plane, halfLength: number, theta: number): Float32Array {
  const { width: w, height: h, data } = src;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const steep = Math.abs(s) > Math.abs(c);
  const major = steep ? h : w; // samples along a line
  const minor = steep ? w : h;
  const slope = steep ? c / s : s / c;
  const half = Math.max(1, Math.round(halfLength * Math.max(Math.abs(c), Math.abs(s))));
  const off = new Int32Array(major);
  for (let x = 0; x < major; x++) off[x] = Math.round(x * slope);
  const lo = Math.min(0, off[major - 1] as number);
  const hi = Math.max(0, off[major - 1] as number);
  const sum = new Float64Array(major + 1);
  const out = new Float32Array(w * h);
  // pixel (x along the major axis, y along the minor) is data[x * strideX + y * strideY]
  const strideX = steep ? w : 1;
  const strideY = steep ? 1 : w;
  // line q holds the pixels (x, q + off[x]) with 0 <= q + off[x] < minor: a contiguous run of x (off is monotonic)
  for (let q = -hi; q < minor - lo; q++) {
    let first = -1;
    let last = -1;
    sum[0] = 0;
    for (let x = 0; x < major; x++) {
      const y = q + (off[x] as number);
      if (y >= 0 && y < minor) {
        if (first < 0) first = x;
        last = x;
        sum[x - first + 1] = (sum[x - first] as number) + (data[x * strideX + y * strideY] as number);
      } else if (first >= 0) break;
    }
    if (first < 0) continue;
    const n = last - first + 1;
    for (let i = 0; i < n; i++) {
      const a = Math.max(0, i - half);
      const b = Math.min(n, i + half + 1);
      const x = first + i;
      out[x * strideX + (q + (off[x] as number)) * strideY] = ((sum[b] as number) - (sum[a] as number)) / (b - a);
    }
  }
  return out;
}
