/**
 * Identity similarity: cosine of face embeddings (MobileFaceNet / ArcFace-style nets with input
 * (1,3,S,S) RGB in [-1,1]). The network runs elsewhere (onnxruntime-web in the worker, onnxruntime-node
 * in tools/quality); this module only prepares the input and compares embeddings.
 */
import { cosine } from './psnr';

export type Embedder = (input: Float32Array, size: number) => Promise<Float32Array>;

/** Antialiased bilinear (triangle filter, support scaled when shrinking) resize weights for one axis. */
function axisWeights(inLen: number, outLen: number): { start: Int32Array; w: Float64Array[] } {
  const scale = inLen / outLen;
  const support = Math.max(1, scale);
  const start = new Int32Array(outLen);
  const w: Float64Array[] = [];
  for (let o = 0; o < outLen; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inLen, Math.ceil(centre + support));
    const ws = new Float64Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const v = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      ws[i - lo] = v;
      sum += v;
    }
    for (let i = 0; i < ws.length; i++) ws[i] = ws[i]! / sum;
    start[o] = lo;
    w.push(ws);
  }
  return { start, w };
}

/** Interleaved RGB(A) 0..255 -> planar (1,3,size,size) float32 in [-1,1], antialiased bilinear resize. */
export function toIdentityInput(rgb: ArrayLike<number>, width: number, height: number, channels = 3, size = 112): Float32Array {
  const wx = axisWeights(width, size);
  const wy = axisWeights(height, size);
  const tmp = new Float64Array(height * size * 3);
  for (let y = 0; y < height; y++) {
    for (let o = 0; o < size; o++) {
      const s = wx.start[o]!;
      const ws = wx.w[o]!;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < ws.length; k++) acc += ws[k]! * rgb[(y * width + s + k) * channels + c]!;
        tmp[(y * size + o) * 3 + c] = acc;
      }
    }
  }
  const out = new Float32Array(3 * size * size);
  for (let o = 0; o < size; o++) {
    const s = wy.start[o]!;
    const ws = wy.w[o]!;
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < ws.length; k++) acc += ws[k]! * tmp[((s + k) * size + x) * 3 + c]!;
        out[c * size * size + o * size + x] = (acc / 255) * 2 - 1;
      }
    }
  }
  return out;
}

export interface RgbView {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/** Cosine similarity of the identity embeddings of two face crops. */
export async function identityCosine(embed: Embedder, a: RgbView, b: RgbView, size = 112): Promise<number> {
  const ea = await embed(toIdentityInput(a.data, a.width, a.height, a.channels, size), size);
  const eb = await embed(toIdentityInput(b.data, b.width, b.height, b.channels, size), size);
  return cosine(ea, eb);
}
