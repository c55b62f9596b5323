/** 3x3 box blur of a CHW float image (at the edges, the mean of the pixels that exist): the trivial smoother that
 * restorers are compared against (tools/quality/bundled-set.test.ts, tools/train/restorer-eval.ts). */
export function boxBlur3(x: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = height * width;
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let xx = 0; xx < width; xx++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const py = y + dy;
            const px = xx + dx;
            if (py < 0 || px < 0 || py >= height || px >= width) continue;
            s += x[c * plane + py * width + px]!;
            n++;
          }
        out[c * plane + y * width + xx] = s / n;
      }
  return out;
}
