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

function reduce1d(src: Plane, radius: number, horizontal: boolean, op: Op): Plane {
  const { width: w, height: h, data } = src;
  const out = new Float32Array(w * h);
  const isMin = op === 'min';
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = isMin ? Infinity : -Infinity;
      for (let k = -radius; k <= radius; k++) {
        const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
        const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
        const v = data[yy * w + xx] as number;
        if (isMin ? v < acc : v > acc) acc = v;
      }
      out[y * w + x] = acc;
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
