/**
 * PyTorch's F.interpolate(mode='bilinear', antialias=True, align_corners=False) along one axis,
 * written as a dense (outSize x inSize) matrix. The identity property resizes x0_hat to the
 * embedding's input with it; as a matrix, the same resize and its transpose (for the gradient)
 * run as two MatMuls on the GPU.
 */
export function aaBilinearMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1; // bilinear interp_size 2 -> 0.5 * 2 * scale
  const invscale = scale >= 1 ? 1 / scale : 1;
  const filter = (x: number) => {
    const a = Math.abs(x);
    return a < 1 ? 1 - a : 0;
  };
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const w: number[] = [];
    for (let j = xmin; j < xmax; j++) {
      const v = filter((j - center + 0.5) * invscale);
      w.push(v);
      total += v;
    }
    for (let k = 0; k < w.length; k++) m[i * inSize + xmin + k] = total !== 0 ? (w[k] as number) / total : 0;
  }
  return m;
}

export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c] as number;
  return t;
}

/** Resize a CHW float image on the CPU with the same matrices (for references, once per request). */
export function resizeChw(src: Float32Array, c: number, h: number, w: number, oh: number, ow: number): Float32Array {
  const ry = aaBilinearMatrix(h, oh);
  const rx = aaBilinearMatrix(w, ow);
  const out = new Float32Array(c * oh * ow);
  const tmp = new Float64Array(oh * w);
  for (let ch = 0; ch < c; ch++) {
    tmp.fill(0);
    const base = ch * h * w;
    for (let i = 0; i < oh; i++) {
      for (let y = 0; y < h; y++) {
        const wy = ry[i * h + y] as number;
        if (wy === 0) continue;
        for (let x = 0; x < w; x++) tmp[i * w + x] = (tmp[i * w + x] as number) + wy * (src[base + y * w + x] as number);
      }
    }
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let x = 0; x < w; x++) s += (rx[j * w + x] as number) * (tmp[i * w + x] as number);
        out[ch * oh * ow + i * ow + j] = s;
      }
    }
  }
  return out;
}
