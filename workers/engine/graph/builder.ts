import { AttrType, DataType, ModelProto } from './onnx-proto';

export type ElemType = 'float32' | 'int64' | 'bool';
export type AttrValue = number | number[] | string | { ints: number[] } | { float: number };

const elemCode: Record<ElemType, number> = { float32: DataType.FLOAT, int64: DataType.INT64, bool: DataType.BOOL };

interface NodeSpec {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: Record<string, unknown>[];
}

/**
 * Writes small ONNX graphs in TypeScript (the guidance math of one request), so the sampler's
 * arithmetic runs where the tensors live (GPU on WebGPU) instead of reading them back.
 * Shapes are static: graphs are built per request for its image size.
 */
export class GraphBuilder {
  private nodes: NodeSpec[] = [];
  private inits: Record<string, unknown>[] = [];
  private inputs: Record<string, unknown>[] = [];
  private outputs: Record<string, unknown>[] = [];
  private counter = 0;
  private constCache = new Map<string, string>();
  private inputDims = new Map<string, string>();

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  /** Declares a graph input; declaring the same name again (a scalar two formulas read) returns it. */
  input(name: string, dims: readonly number[], type: ElemType = 'float32'): string {
    const seen = this.inputDims.get(name);
    if (seen !== undefined) {
      if (seen !== `${type}:${dims.join('x')}`)
        throw new Error(`internal: graph ${this.name} declares input ${name} twice with different shapes`);
      return name;
    }
    this.inputDims.set(name, `${type}:${dims.join('x')}`);
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  output(value: string, name: string, dims: readonly number[], type: ElemType = 'float32'): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, dims, type));
  }

  /** A float32 constant (initializer); scalars become shape [1] unless dims say otherwise. */
  constF(values: number | ArrayLike<number>, dims?: readonly number[]): string {
    const arr = typeof values === 'number' ? new Float32Array([values]) : Float32Array.from(values as ArrayLike<number>);
    const shape = dims ?? [arr.length];
    const key = arr.length <= 16 ? `f:${shape.join('x')}:${Array.from(arr).join(',')}` : '';
    if (key && this.constCache.has(key)) return this.constCache.get(key) as string;
    const name = this.fresh('c');
    this.inits.push({
      name,
      dims: shape,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    });
    if (key) this.constCache.set(key, name);
    return name;
  }

  constI64(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh('ci');
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.inits.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(raw.buffer) });
    this.constCache.set(key, name);
    return name;
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    const out = outName ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, input: inputs, output: [out], name: this.fresh(`n_${opType}`), attribute: encodeAttrs(attrs) });
    return out;
  }

  // Small helpers that keep the graph code readable.
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  sqrt(a: string): string {
    return this.op('Sqrt', [a]);
  }
  exp(a: string): string {
    return this.op('Exp', [a]);
  }
  neg(a: string): string {
    return this.op('Neg', [a]);
  }
  scale(a: string, k: number): string {
    return this.mul(a, this.constF(k));
  }
  clip(a: string, lo: number, hi: number): string {
    return this.op('Clip', [a, this.constF(lo, []), this.constF(hi, [])]);
  }
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  /** ReduceSum over axes (opset 13+: axes as an input). */
  sum(a: string, axes: number[], keepdims = true): string {
    return this.op('ReduceSum', [a, this.constI64(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  mean(a: string, axes: number[], count: number): string {
    return this.scale(this.sum(a, axes), 1 / count);
  }
  sumSq(a: string, axes: number[]): string {
    return this.sum(this.mul(a, a), axes);
  }
  /** Channel slice [start, end) on axis 1. */
  sliceC(a: string, start: number, end: number): string {
    return this.op('Slice', [a, this.constI64([start]), this.constI64([end]), this.constI64([1])]);
  }
  /** Element i of a 1-D tensor, as shape [1] (broadcasts against anything). */
  pick(vec: string, i: number): string {
    return this.op('Slice', [vec, this.constI64([i]), this.constI64([i + 1]), this.constI64([0])]);
  }
  /** where(cond, a, b) with cond from Equal/Greater. */
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }

  build(): Uint8Array {
    const model = {
      irVersion: 8,
      producerName: 'pgdiff-web',
      producerVersion: '0.1',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`internal: invalid ONNX graph ${this.name}: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}

function valueInfo(name: string, dims: readonly number[], type: ElemType): Record<string, unknown> {
  return {
    name,
    type: { tensorType: { elemType: elemCode[type], shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}

function encodeAttrs(attrs: Record<string, AttrValue>): Record<string, unknown>[] {
  return Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'number') {
      return Number.isInteger(v) ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.FLOAT, f: v };
    }
    if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
    if ('ints' in v) return { name, type: AttrType.INTS, ints: v.ints };
    return { name, type: AttrType.FLOAT, f: v.float };
  });
}
