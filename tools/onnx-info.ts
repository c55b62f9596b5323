/**
 * Just enough of the ONNX protobuf to describe a model without loading it: graph inputs/outputs
 * (name, element type, shape) and every initializer's size, to find the largest tensor (WebGPU must
 * fit it in one buffer). A hand-written reader: weights (raw_data) are skipped, never copied.
 * Field numbers from onnx/onnx.proto.
 */

export interface OnnxValueInfo {
  name: string;
  /** ONNX TensorProto.DataType number */
  elemType: number;
  /** element type name ('float32', 'int64', ...) or 'type<N>' */
  dtype: string;
  /** a number for fixed dims, the dim_param name for symbolic dims, -1 when unknown */
  shape: (number | string)[];
}

export interface OnnxTensorInfo {
  name: string;
  dims: number[];
  elemType: number;
  bytes: number;
  /** stored outside the .onnx file (external data) */
  external: boolean;
}

export interface OnnxInfo {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** initializers and Constant node values of the main graph */
  tensors: OnnxTensorInfo[];
  largest?: OnnxTensorInfo;
}

/** Element sizes in bits, by TensorProto.DataType. */
const ELEM_BITS: Record<number, [string, number]> = {
  1: ['float32', 32],
  2: ['uint8', 8],
  3: ['int8', 8],
  4: ['uint16', 16],
  5: ['int16', 16],
  6: ['int32', 32],
  7: ['int64', 64],
  8: ['string', 0],
  9: ['bool', 8],
  10: ['float16', 16],
  11: ['float64', 64],
  12: ['uint32', 32],
  13: ['uint64', 64],
  14: ['complex64', 64],
  15: ['complex128', 128],
  16: ['bfloat16', 16],
  17: ['float8e4m3fn', 8],
  18: ['float8e4m3fnuz', 8],
  19: ['float8e5m2', 8],
  20: ['float8e5m2fnuz', 8],
  21: ['uint4', 4],
  22: ['int4', 4],
  23: ['float4e2m1', 4],
};

export const onnxDtypeName = (t: number): string => ELEM_BITS[t]?.[0] ?? `type${t}`;

export class OnnxParseError extends Error {
  override name = 'OnnxParseError';
}

/** A protobuf wire-format reader over a byte range. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.byteLength,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  /** varint as a number; exact up to 2^53, negative int64 values come back negative */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxParseError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result >= 2 ** 63 ? result - 2 ** 64 : result;
      mul *= 128;
    }
    throw new OnnxParseError('varint longer than 10 bytes');
  }
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }
  /** a length-delimited field's [start, end) */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) throw new OnnxParseError(`field runs past the end (${len} bytes at ${start})`);
    this.pos += len;
    return [start, start + len];
  }
  sub(): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e);
  }
  string(): string {
    const [s, e] = this.bytes();
    return new TextDecoder().decode(this.buf.subarray(s, e));
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new OnnxParseError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new OnnxParseError('field runs past the end');
  }
  /** repeated int64: packed (wire 2) or one value (wire 0) */
  int64s(wire: number, out: number[]): void {
    if (wire === 0) out.push(this.varint());
    else if (wire === 2) {
      const r = this.sub();
      while (!r.done) out.push(r.varint());
    } else this.skip(wire);
  }
}

function readTensor(r: Reader): OnnxTensorInfo {
  const dims: number[] = [];
  let elemType = 0;
  let name = '';
  let external = false;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) r.int64s(wire, dims);
    else if (field === 2 && wire === 0) elemType = r.varint();
    else if (field === 8 && wire === 2) name = r.string();
    else if (field === 14 && wire === 0) external = r.varint() === 1;
    else r.skip(wire);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const bits = ELEM_BITS[elemType]?.[1] ?? 0;
  return { name, dims, elemType, bytes: Math.ceil((count * bits) / 8), external };
}

function readShape(r: Reader): (number | string)[] {
  const dims: (number | string)[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const d = r.sub();
    let dim: number | string = -1;
    while (!d.done) {
      const t = d.tag();
      if (t.field === 1 && t.wire === 0) dim = d.varint();
      else if (t.field === 2 && t.wire === 2) dim = d.string();
      else d.skip(t.wire);
    }
    dims.push(dim);
  }
  return dims;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  let shape: (number | string)[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) name = r.string();
    else if (field === 2 && wire === 2) {
      const type = r.sub(); // TypeProto
      while (!type.done) {
        const t = type.tag();
        if (t.field !== 1 || t.wire !== 2) {
          type.skip(t.wire);
          continue;
        }
        const tensor = type.sub(); // TypeProto.Tensor
        while (!tensor.done) {
          const u = tensor.tag();
          if (u.field === 1 && u.wire === 0) elemType = tensor.varint();
          else if (u.field === 2 && u.wire === 2) shape = readShape(tensor.sub());
          else tensor.skip(u.wire);
        }
      }
    } else r.skip(wire);
  }
  return { name, elemType, dtype: onnxDtypeName(elemType), shape };
}

/** The tensor of a Constant node's "value" attribute, if any. */
function readConstantNode(r: Reader): OnnxTensorInfo | undefined {
  let op = '';
  let output = '';
  let tensor: OnnxTensorInfo | undefined;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 4 && wire === 2) op = r.string();
    else if (field === 2 && wire === 2 && !output) output = r.string();
    else if (field === 5 && wire === 2) {
      const a = r.sub(); // AttributeProto: t = 5
      while (!a.done) {
        const t = a.tag();
        if (t.field === 5 && t.wire === 2) tensor = readTensor(a.sub());
        else a.skip(t.wire);
      }
    } else r.skip(wire);
  }
  if (op !== 'Constant' || !tensor) return undefined;
  // Constant values are usually unnamed: name them after the node's output.
  return tensor.name ? tensor : { ...tensor, name: output };
}

/** Describe an ONNX model from its bytes. */
export function readOnnxInfo(bytes: Uint8Array): OnnxInfo {
  const r = new Reader(bytes);
  const info: OnnxInfo = { irVersion: 0, producer: '', opsets: [], inputs: [], outputs: [], tensors: [] };
  let sawGraph = false;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) info.irVersion = r.varint();
    else if (field === 2 && wire === 2) info.producer = r.string();
    else if (field === 8 && wire === 2) {
      const o = r.sub();
      const op = { domain: '', version: 0 };
      while (!o.done) {
        const t = o.tag();
        if (t.field === 1 && t.wire === 2) op.domain = o.string();
        else if (t.field === 2 && t.wire === 0) op.version = o.varint();
        else o.skip(t.wire);
      }
      info.opsets.push(op);
    } else if (field === 7 && wire === 2) {
      sawGraph = true;
      const g = r.sub();
      while (!g.done) {
        const t = g.tag();
        if (t.field === 1 && t.wire === 2) {
          const c = readConstantNode(g.sub());
          if (c) info.tensors.push(c);
        } else if (t.field === 5 && t.wire === 2) info.tensors.push(readTensor(g.sub()));
        else if (t.field === 11 && t.wire === 2) info.inputs.push(readValueInfo(g.sub()));
        else if (t.field === 12 && t.wire === 2) info.outputs.push(readValueInfo(g.sub()));
        else g.skip(t.wire);
      }
    } else r.skip(wire);
  }
  if (!sawGraph || info.irVersion === 0) throw new OnnxParseError('not an ONNX model (no ir_version or graph)');
  // Before IR 4, initializers were also listed as graph inputs; they are not inputs to feed.
  const init = new Set(info.tensors.map((t) => t.name));
  info.inputs = info.inputs.filter((i) => !init.has(i.name));
  for (const t of info.tensors) if (!info.largest || t.bytes > info.largest.bytes) info.largest = t;
  return info;
}
