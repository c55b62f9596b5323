import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { OnnxParseError, readOnnxInfo } from './onnx-info';
import { DT, onnxModel, smallModel } from '../tests/helpers/models/onnx-writer';

describe('readOnnxInfo', () => {
  it('reads inputs, outputs and the largest initializer of a model onnxruntime accepts', async () => {
    const bytes = smallModel({ wRows: 16 });
    const info = readOnnxInfo(bytes);
    expect(info.irVersion).toBe(8);
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(info.inputs).toEqual([
      { name: 'x', elemType: DT.float32, dtype: 'float32', shape: ['N', 16] },
      { name: 't', elemType: DT.int64, dtype: 'int64', shape: [1] },
    ]);
    expect(info.outputs).toEqual([{ name: 'y', elemType: DT.float32, dtype: 'float32', shape: ['N', 8] }]);
    expect(info.tensors.map((t) => [t.name, t.dims, t.bytes])).toEqual([
      ['C', [8], 32], // the Constant node, named after its output
      ['W', [16, 8], 512],
      ['B', [8], 32],
    ]);
    expect(info.largest?.name).toBe('W');

    // The same model in onnxruntime: names agree and it runs.
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.inputNames).toEqual(info.inputs.map((i) => i.name));
      expect(session.outputNames).toEqual(info.outputs.map((o) => o.name));
      const out = await session.run({
        x: new ort.Tensor('float32', new Float32Array(32), [2, 16]),
        t: new ort.Tensor('int64', BigInt64Array.from([3n]), [1]),
      });
      expect(out.y!.dims).toEqual([2, 8]);
    } finally {
      await session.release();
    }
  });

  it('sizes float16 tensors at 2 bytes per element', async () => {
    const bytes = smallModel({ float16: true, batch: 1 });
    const info = readOnnxInfo(bytes);
    expect(info.largest).toMatchObject({ name: 'W', dims: [4, 8], elemType: DT.float16, bytes: 64 });
    expect(info.inputs[0]).toMatchObject({ dtype: 'float16', shape: [1, 4] });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['x', 't']);
    await session.release();
  });

  it('drops initializers listed as graph inputs (IR < 4)', () => {
    const bytes = onnxModel({
      irVersion: 3,
      opset: 9,
      nodes: [{ op: 'Add', inputs: ['x', 'W'], outputs: ['y'] }],
      initializers: [{ name: 'W', dims: [3], elemType: DT.float32 }],
      inputs: [
        { name: 'x', elemType: DT.float32, shape: [3] },
        { name: 'W', elemType: DT.float32, shape: [3] },
      ],
      outputs: [{ name: 'y', elemType: DT.float32, shape: [3] }],
    });
    expect(readOnnxInfo(bytes).inputs.map((i) => i.name)).toEqual(['x']);
  });

  it('rejects bytes that are not an ONNX model', () => {
    expect(() => readOnnxInfo(new TextEncoder().encode('{"format": "json"}'))).toThrow(OnnxParseError);
    const truncated = smallModel().subarray(0, 40);
    expect(() => readOnnxInfo(truncated)).toThrow(OnnxParseError);
  });
});
