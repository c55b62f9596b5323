/**
 * Minimal .npy reader (format versions 1-3): little-endian float32 / float64 / int64 / int32, C order.
 * Enough for the golden tensors in ../shared/spec/official-checkpoints/golden/.
 */
import { readFileSync } from 'node:fs';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array;

export interface Npy<T extends NpyData = NpyData> {
  dtype: '<f4' | '<f8' | '<i8' | '<i4';
  shape: number[];
  data: T;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(bytes: Uint8Array): Npy {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new Error('not a .npy file (bad magic)');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw new Error(`unsupported .npy version ${String(major)}`);
  }
  const header = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`bad .npy header: ${header}`);
  }
  if (fortran === 'True') throw new Error('Fortran-order .npy is not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number.parseInt(s, 10));
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  // copy so the typed array is aligned regardless of the header length
  const body = bytes.slice(start, bytes.byteLength);
  const buf = body.buffer;
  switch (descr) {
    case '<f4':
      return { dtype: descr, shape, data: new Float32Array(buf, 0, count) };
    case '<f8':
      return { dtype: descr, shape, data: new Float64Array(buf, 0, count) };
    case '<i8':
      return { dtype: descr, shape, data: new BigInt64Array(buf, 0, count) };
    case '<i4':
      return { dtype: descr, shape, data: new Int32Array(buf, 0, count) };
    default:
      throw new Error(`unsupported .npy dtype ${descr}`);
  }
}

export function readNpy(path: string | URL): Npy {
  return parseNpy(new Uint8Array(readFileSync(path)));
}

/** Reads a float .npy as Float32Array (float64 is narrowed). */
export function readNpyF32(path: string | URL): { shape: number[]; data: Float32Array } {
  const n = readNpy(path);
  if (n.data instanceof Float32Array) return { shape: n.shape, data: n.data };
  if (n.data instanceof Float64Array) return { shape: n.shape, data: Float32Array.from(n.data) };
  throw new Error(`expected a float .npy, got ${n.dtype}`);
}
