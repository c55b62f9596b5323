/**
 * tools/onnx_vjp: the committed VJP graphs of small random nets (tests/fixtures/identity/vjp, made by
 * `python3 -m tools.onnx_vjp.make_test_nets`) against float64 torch.autograd, float64 central
 * differences, and float32 central differences of the forward graph run here.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from './face-input';
import { relL2 } from '../helpers/diff';

interface Case {
  name: string;
  forwardOps: string[];
  inputShape: number[];
  outputShape: number[];
  input: number[];
  cotangent: number[];
  output64: number[];
  grad64: number[];
  fd: { h: number; h32?: number; tol32?: number; directions: number[][]; values64: number[] };
}

const root = path.join(fixtureDir, 'vjp');
const names = fs
  .readdirSync(root)
  .filter((d) => fs.existsSync(path.join(root, d, 'case.json')))
  .sort();

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1 };

describe('onnx_vjp fixtures', () => {
  it('cover every op the tool claims (read from vjp.py SUPPORTED)', () => {
    const src = fs.readFileSync(path.join(fixtureDir, '..', '..', '..', 'tools', 'onnx_vjp', 'vjp.py'), 'utf8');
    const block = /SUPPORTED = sorted\(\[([\s\S]*?)\]\)/.exec(src)?.[1] ?? '';
    const supported = [...block.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    expect(supported.length).toBeGreaterThan(30);
    const covered = new Set(
      names.flatMap((n) => (JSON.parse(fs.readFileSync(path.join(root, n, 'case.json'), 'utf8')) as Case).forwardOps),
    );
    expect(supported.filter((op) => !covered.has(op))).toEqual([]);
  });

  for (const name of names) {
    it(`${name}: forward, VJP vs float64 autograd, VJP vs finite differences`, async () => {
      const dir = path.join(root, name);
      const c = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as Case;
      const fwd = await ort.InferenceSession.create(path.join(dir, 'forward.onnx'), opts);
      const vjp = await ort.InferenceSession.create(path.join(dir, 'vjp.onnx'), opts);
      expect(vjp.inputNames).toEqual(['input', 'cotangent']);
      expect(vjp.outputNames).toEqual(['grad_input']);
      const x = Float32Array.from(c.input);
      const f = async (z: Float32Array): Promise<Float32Array> =>
        (await fwd.run({ [fwd.inputNames[0]!]: new ort.Tensor('float32', z, c.inputShape) }))[fwd.outputNames[0]!]!.data as Float32Array;

      const y = await f(x);
      expect(relL2(y, c.output64)).toBeLessThan(1e-5);

      const g = (
        await vjp.run({
          input: new ort.Tensor('float32', x, c.inputShape),
          cotangent: new ort.Tensor('float32', Float32Array.from(c.cotangent), c.outputShape),
        })
      ).grad_input!.data as Float32Array;
      expect(g.length).toBe(x.length);
      expect(relL2(g, c.grad64)).toBeLessThan(1e-5);

      // float64 central differences (made by the generator) along fixed unit directions
      c.fd.directions.forEach((v, k) => {
        const fd = c.fd.values64[k]!;
        expect(Math.abs(dot(g, v) - fd) / Math.abs(fd)).toBeLessThan(1e-4);
      });

      // float32 central differences of the ONNX forward graph itself
      const h = c.fd.h32 ?? 1e-2;
      const an: number[] = [];
      const fd32: number[] = [];
      for (const v of c.fd.directions) {
        const xp = x.map((e, i) => e + h * v[i]!);
        const xm = x.map((e, i) => e - h * v[i]!);
        fd32.push((dot(await f(xp), c.cotangent) - dot(await f(xm), c.cotangent)) / (2 * h));
        an.push(dot(g, v));
      }
      const fdRel = Math.max(...c.fd.directions.map((v, k) => Math.abs(dot(g, v) - c.fd.values64[k]!) / Math.abs(c.fd.values64[k]!)));
      console.info(
        `${name}: output relL2 ${relL2(y, c.output64).toExponential(1)}, grad vs autograd64 relL2 ${relL2(g, c.grad64).toExponential(1)}, vs FD64 max rel ${fdRel.toExponential(1)}, vs FD32 relL2 ${relL2(an, fd32).toExponential(1)}`,
      );
      expect(relL2(an, fd32)).toBeLessThan(c.fd.tol32 ?? 2e-2);
    });
  }
});
