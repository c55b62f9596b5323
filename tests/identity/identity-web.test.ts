/**
 * The browser runtime (onnxruntime-web, WASM backend, run here in Node) loads and runs every
 * identity and VJP graph this task ships, and agrees with onnxruntime-node. (WebGPU needs a GPU
 * browser; not covered here.)
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { IDENTITY_MODELS } from '../../tools/identity/identity-config';
import { fixtureDir, identityDir } from './face-input';
import { relL2 } from '../helpers/diff';

ortWeb.env.wasm.numThreads = 1;

async function both(file: string, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<[Float32Array, Float32Array]> {
  const web = await ortWeb.InferenceSession.create(new Uint8Array(fs.readFileSync(file)), { executionProviders: ['wasm'] });
  const node = await ortNode.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const fw: Record<string, ortWeb.Tensor> = {};
  const fn: Record<string, ortNode.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    fw[k] = new ortWeb.Tensor('float32', v.data, v.dims);
    fn[k] = new ortNode.Tensor('float32', v.data, v.dims);
  }
  const rw = (await web.run(fw))[web.outputNames[0]!]!.data as Float32Array;
  const rn = (await node.run(fn))[node.outputNames[0]!]!.data as Float32Array;
  await web.release();
  return [rw, rn];
}

const wave = (n: number, f: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));

describe('onnxruntime-web (wasm) runs the shipped graphs', () => {
  it.each(IDENTITY_MODELS)('$id forward and VJP agree with onnxruntime-node', async (m) => {
    const x = { data: wave(3 * 112 * 112, 0.37), dims: [1, 3, 112, 112] };
    const [ew, en] = await both(path.join(identityDir, `${m.id}.onnx`), { input: x });
    expect(ew.length).toBe(m.dim);
    expect(relL2(ew, en)).toBeLessThan(1e-5);
    const c = { data: wave(m.dim, 0.11), dims: [1, m.dim] };
    const [gw, gn] = await both(path.join(identityDir, `${m.id}-vjp.onnx`), { input: x, cotangent: c });
    expect(gw.length).toBe(3 * 112 * 112);
    expect(relL2(gw, gn)).toBeLessThan(1e-5);
  });

  it('every onnx_vjp fixture VJP graph (all supported ops) agrees with onnxruntime-node', async () => {
    const root = path.join(fixtureDir, 'vjp');
    const names = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'vjp.onnx')));
    expect(names.length).toBeGreaterThan(5);
    for (const n of names) {
      const c = JSON.parse(fs.readFileSync(path.join(root, n, 'case.json'), 'utf8')) as {
        inputShape: number[];
        outputShape: number[];
        input: number[];
        cotangent: number[];
      };
      const [gw, gn] = await both(path.join(root, n, 'vjp.onnx'), {
        input: { data: Float32Array.from(c.input), dims: c.inputShape },
        cotangent: { data: Float32Array.from(c.cotangent), dims: c.outputShape },
      });
      expect(relL2(gw, gn), n).toBeLessThan(1e-5);
    }
  });
});
