/**
 * A tiny ONNX protobuf writer for tests: enough to build small valid models (checked by loading them
 * in onnxruntime-node) with known initializers, inputs and outputs.
 */

const enc = new TextEncoder();

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

type Part = Uint8Array | number[];
const cat = (parts: Part[]): Uint8Array => {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const fVarint = (field: number, v: number | bigint): number[] => [...varint(field * 8), ...varint(v)];
const fBytes = (field: number, b: Uint8Array): Uint8Array => cat([varint(field * 8 + 2), varint(b.length), b]);
const fString = (field: number, s: string): Uint8Array => fBytes(field, enc.encode(s));

export const DT = { float32: 1, int64: 7, float16: 10 } as const;
const ELEM_BYTES: Record<number, number> = { 1: 4, 7: 8, 10: 2 };

export interface TensorDef {
  name: string;
  dims: number[];
  elemType: number;
  /** raw_data; filled with a pattern when omitted */
  raw?: Uint8Array;
  /** write dims unpacked (one tag per value), as some exporters do */
  unpackedDims?: boolean;
}

export function tensor(t: TensorDef): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const raw = t.raw ?? Uint8Array.from({ length: count * (ELEM_BYTES[t.elemType] ?? 1) }, (_, i) => (i * 7) % 61);
  const dims = t.unpackedDims ? t.dims.map((d) => cat([fVarint(1, d)])) : [fBytes(1, Uint8Array.from(t.dims.flatMap((d) => varint(d))))];
  return cat([...dims, fVarint(2, t.elemType), fString(8, t.name), fBytes(9, raw)]);
}

export interface ValueDef {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

function valueInfo(v: ValueDef): Uint8Array {
  const dims = v.shape.map((d) => fBytes(1, typeof d === 'number' ? cat([fVarint(1, d)]) : fString(2, d)));
  const tensorType = cat([fVarint(1, v.elemType), fBytes(2, cat(dims))]);
  return cat([fString(1, v.name), fBytes(2, fBytes(1, tensorType))]);
}

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Constant's value */
  value?: TensorDef;
  /** integer attributes */
  ints?: Record<string, number>;
}

function node(n: NodeDef, i: number): Uint8Array {
  const attrs: Uint8Array[] = [];
  // AttributeProto: name=1, i=3, t=5, type=20 (INT=2, TENSOR=4)
  if (n.value) attrs.push(fBytes(5, cat([fString(1, 'value'), fBytes(5, tensor(n.value)), fVarint(20, 4)])));
  for (const [k, v] of Object.entries(n.ints ?? {})) attrs.push(fBytes(5, cat([fString(1, k), fVarint(3, v), fVarint(20, 2)])));
  return cat([
    ...n.inputs.map((s) => fString(1, s)),
    ...n.outputs.map((s) => fString(2, s)),
    fString(3, `n${i}`),
    fString(4, n.op),
    ...attrs,
  ]);
}

export function onnxModel(m: {
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  opset?: number;
  irVersion?: number;
}): Uint8Array {
  const graph = cat([
    ...m.nodes.map((n, i) => fBytes(1, node(n, i))),
    fString(2, 'g'),
    ...m.initializers.map((t) => fBytes(5, tensor(t))),
    ...m.inputs.map((v) => fBytes(11, valueInfo(v))),
    ...m.outputs.map((v) => fBytes(12, valueInfo(v))),
  ]);
  return cat([
    fVarint(1, m.irVersion ?? 8),
    fString(2, 'pgdiff-test'),
    fBytes(7, graph),
    fBytes(8, cat([fString(1, ''), fVarint(2, m.opset ?? 17)])),
  ]);
}

/**
 * y = (x @ W + B + C) + cast(t), x: (N, 4) float, t: (1) int64 -> y: (N, 8).
 * W (4x8) is the largest tensor (128 bytes in float32). With elemType float16 everything is fp16.
 */
export function smallModel(opts: { float16?: boolean; batch?: number | string; wRows?: number } = {}): Uint8Array {
  const ft = opts.float16 ? DT.float16 : DT.float32;
  const rows = opts.wRows ?? 4;
  const batch = opts.batch ?? 'N';
  return onnxModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'B'], outputs: ['h2'] },
      { op: 'Constant', inputs: [], outputs: ['C'], value: { name: '', dims: [8], elemType: ft } },
      { op: 'Add', inputs: ['h2', 'C'], outputs: ['h3'] },
      { op: 'Cast', inputs: ['t'], outputs: ['tf'], ints: { to: ft } },
      { op: 'Add', inputs: ['h3', 'tf'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'W', dims: [rows, 8], elemType: ft },
      { name: 'B', dims: [8], elemType: ft, unpackedDims: true },
    ],
    inputs: [
      { name: 'x', elemType: ft, shape: [batch, rows] },
      { name: 't', elemType: DT.int64, shape: [1] },
    ],
    outputs: [{ name: 'y', elemType: ft, shape: [batch, 8] }],
  });
}
