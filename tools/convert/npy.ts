/**
 * Minimal .npy (format 1.0/2.0) reader and writer for the converter's checks:
 * little-endian float32, float16 (read as float32), int64, int32, uint8; C order only.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface NpyArray {
  dtype: 'float32' | 'int64' | 'int32' | 'uint8';
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export function parseNpy(buf: Uint8Array): NpyArray {
  const magic = String.fromCharCode(...buf.subarray(1, 6));
  if (buf[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy file');
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(buf.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`bad npy header: ${header}`);
  if (fortran === 'True') throw new Error('fortran-order npy not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  const body = buf.slice(off, off + n * ({ '<f4': 4, '<f2': 2, '<i8': 8, '<i4': 4, '|u1': 1 }[descr] ?? 0));
  switch (descr) {
    case '<f4':
      return { dtype: 'float32', shape, data: new Float32Array(body.buffer, 0, n) };
    case '<f2': {
      const h = new Uint16Array(body.buffer, 0, n);
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = halfToFloat(h[i]!);
      return { dtype: 'float32', shape, data: f };
    }
    case '<i8':
      return { dtype: 'int64', shape, data: new BigInt64Array(body.buffer, 0, n) };
    case '<i4':
      return { dtype: 'int32', shape, data: new Int32Array(body.buffer, 0, n) };
    case '|u1':
      return { dtype: 'uint8', shape, data: new Uint8Array(body.buffer, 0, n) };
    default:
      throw new Error(`npy dtype ${descr} not supported`);
  }
}

export function readNpy(path: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path)));
}

export function writeNpy(path: string, arr: NpyArray): void {
  const descr = { float32: '<f4', int64: '<i8', int32: '<i4', uint8: '|u1' }[arr.dtype];
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, ...'NUMPY'.split('').map((c) => c.charCodeAt(0)), 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  const body = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  writeFileSync(path, out);
}
