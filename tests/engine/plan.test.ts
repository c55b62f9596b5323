import { afterEach, describe, expect, it } from 'vitest';
import type { RestoreRequest } from '../../workers/api';
import { Engine } from '../../workers/engine/engine';
import { resolveModelIo } from '../../workers/engine/model-io';
import { planRun, type LoadedSet } from '../../workers/engine/plan';
import type { ModelManifest } from '../../workers/models/manifest-types';
import type { Backend, RtTensor, Session } from '../../workers/runtime/backend';
import { createNodeBackend } from '../../workers/runtime/node';
import { countPriorCalls, spaceTimesteps } from '../../workers/shared/steps';
import { request, syntheticImage } from './helpers';
import { tinySet } from './tiny-set';

/** A session stand-in with the names the manifest lists (planning never runs a model). */
function fakeSession(inputNames: string[], outputNames: string[]): Session {
  return { label: 'fake', inputNames, outputNames, run: () => Promise.reject(new Error('not run')), dispose: () => Promise.resolve() };
}

function loadedSet(manifest: ModelManifest): LoadedSet {
  const sessions: Parameters<typeof resolveModelIo>[1] = {};
  for (const e of manifest.models)
    sessions[e.role] = fakeSession(
      e.inputs.map((t) => t.name),
      e.outputs.map((t) => t.name),
    );
  return { manifest, io: resolveModelIo(manifest, sessions) };
}

const tiny = () => tinySet('linear', 'learned-range');
const set = loadedSet(tiny().manifest);
const img = syntheticImage(64);
const withGuidance = (task: Parameters<typeof request>[0], g: Partial<RestoreRequest['guidance']>, extra: Partial<RestoreRequest> = {}) => {
  const r = request(task, img, extra);
  r.guidance = { ...r.guidance, ...g };
  return r;
};

describe('run plan: bad requests are refused with specific messages', () => {
  const cases: [string, RestoreRequest, RegExp][] = [
    [
      'photo of the wrong byte length',
      request('blind', { width: 64, height: 64, data: new Uint8ClampedArray(10) }),
      /pixel data has 10 bytes; 64x64 RGBA needs 16384/,
    ],
    ['side not a multiple of 8', request('blind', syntheticImage(60)), /60x60; the prior needs sides that are multiples of 8/],
    ['mask of another size', request('inpainting', img, { mask: syntheticImage(32) }), /mask is 32x32 but the photo is 64x64/],
    [
      'negative weight',
      withGuidance('blind', { weights: { smooth: -1 } }),
      /weight of the smooth property is -1; weights are 0 \(off\) or more/,
    ],
    ['NaN scale', withGuidance('blind', { scale: Number.NaN }), /"scale" is NaN; it must be a finite number/],
    ['N out of range', withGuidance('blind', { gradSteps: 0 }), /N \(gradient steps\) must be an integer from 1 to 20, got 0/],
    [
      'unknown update rule',
      withGuidance('blind', { update: 'sideways' as 'mean-shift' }),
      /update rule "sideways" is not one of mean-shift/,
    ],
    [
      'unknown identity loss',
      withGuidance('reference', { identityLoss: 'l1' as 'mse' }, { references: [img] }),
      /identity loss "l1" is not mse or cosine/,
    ],
    ['identity without references', request('reference', img), /identity property needs at least one reference photo/],
    [
      'steps the schedule cannot space',
      request('blind', img, { sampler: { kind: 'ddpm', steps: 'ddpm999', seed: 1 } }),
      /Steps "ddpm999": cannot create exactly 999 steps/,
    ],
    [
      'unknown sampler',
      request('blind', img, { sampler: { kind: 'euler' as 'ddpm', steps: 10, seed: 1 } }),
      /sampler "euler" is not ddpm or ddim/,
    ],
    ['negative preview interval', request('blind', img, { previewEvery: -1 }), /previewEvery is -1/],
    [
      'a broken reference photo',
      request('reference', img, { references: [{ width: 8, height: 8, data: new Uint8ClampedArray(3) }] }),
      /Reference photo 1 is not RGBA pixel data/,
    ],
  ];
  for (const [what, req, message] of cases) {
    it(what, () => {
      expect(() => planRun(req, set)).toThrow(message);
    });
  }

  it('asks for the model a property needs when the set lacks it', () => {
    const m = tiny().manifest;
    m.models = m.models.filter((e) => e.role !== 'identity' && e.role !== 'identity-vjp' && e.role !== 'restorer');
    const small = loadedSet(m);
    expect(() => planRun(request('reference', img, { references: [img] }), small)).toThrow(
      /has no identity network, which the identity property needs/,
    );
    expect(() => planRun(request('blind', img), small)).toThrow(/has no restorer, which this task needs/);
  });
});

describe('run plan: what it resolves', () => {
  it('the graph structure holds which properties are on, not their values', () => {
    const a = planRun(withGuidance('colorization', { scale: 0.01 }), set);
    const b = planRun(
      withGuidance('colorization', { scale: 0.3, weights: { lightness: 2, color: 0.7 }, style: { mean: [0, 0, 0], std: [0.5, 0.5, 0.5] } }),
      set,
    );
    expect(a.graphs.terms).toEqual(['lightness', 'color']);
    expect(JSON.stringify(b.graphs)).toBe(JSON.stringify(a.graphs));
    expect(b.weights.color).toBe(0.7);
    expect(b.scale).toBe(0.3);
  });

  it('resolves the restorer, the mask, the previews and the calls once', () => {
    const p = planRun(request('inpainting', img, { mask: syntheticImage(64, 3), previewEvery: 2, previewSize: 500 }), set);
    expect(p.restorer).toBe('none');
    expect(p.keep).toHaveLength(3 * 64 * 64);
    expect(p.keepUnmasked?.feather).toBe(2);
    expect(p.preview).toEqual({ every: 2, size: 64, from: 'x0' });
    expect(planRun(request('blind', img), set).restorer).toBe('each-timestep');
    const n3 = withGuidance('blind', { gradSteps: 3, sStart: 1, sEnd: 0.5 });
    expect(planRun(n3, set).callsPerVariant).toBe(
      countPriorCalls(spaceTimesteps(1000, 'ddpm10'), 1000, { gradSteps: 3, sStart: 1, sEnd: 0.5 }),
    );
    // ddpm10 keeps 0, 100, ..., 900: 600..900 lie inside (500, 1000), so 4 timesteps run 3 times
    expect(planRun(n3, set).callsPerVariant).toBe(10 + 4 * 2);
  });

  it("keeps the photo's lightness when the lightness property is on, unless asked not to", () => {
    expect(planRun(request('colorization', img), set).keepLightness?.photo).toBe(img);
    expect(planRun(request('colorization', img, { keepLightness: false }), set).keepLightness).toBeUndefined();
    expect(planRun(request('blind', img), set).keepLightness).toBeUndefined();
  });

  it('refuses a model whose input names the manifest does not document, when the set loads', () => {
    const m = tiny().manifest;
    const restorer = m.models.find((e) => e.role === 'restorer')!;
    restorer.inputs = restorer.inputs.map((t) => (t.name === 'y' ? { ...t, name: 'lq' } : t));
    expect(() => loadedSet(m)).toThrow(/role restorer: input "lq" is not one of "x_t", "x", "y", "t"/);
    const sessions = { prior: fakeSession(['x', 'timestep'], ['out']) };
    expect(() => resolveModelIo(tiny().manifest, sessions)).toThrow(
      /role prior: the manifest lists inputs "x", "t" but the ONNX file has "x", "timestep"/,
    );
  });
});

/** The node backend, counting sessions created and tensors alive (created and not yet disposed). */
function counting(inner: Backend): Backend & { sessionsCreated: number; alive: Set<RtTensor> } {
  const alive = new Set<RtTensor>();
  const watch = <T extends RtTensor>(t: T): T => {
    alive.add(t);
    const dispose = t.dispose.bind(t);
    Object.defineProperty(t, 'dispose', {
      value: () => {
        alive.delete(t);
        dispose();
      },
    });
    return t;
  };
  const be = {
    ...inner,
    sessionsCreated: 0,
    alive,
    get readbacks() {
      return inner.readbacks;
    },
    tensor: (d: Float32Array, dims: readonly number[]) => watch(inner.tensor(d, dims)),
    int64: (v: readonly number[]) => watch(inner.int64(v)),
    async createSession(model: Uint8Array, label: string): Promise<Session> {
      be.sessionsCreated += 1;
      const s = await inner.createSession(model, label);
      return {
        ...s,
        label: s.label,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: async (feeds) => {
          const out = await s.run(feeds);
          for (const t of Object.values(out)) watch(t);
          return out;
        },
        dispose: () => s.dispose(),
      };
    },
  };
  return be;
}

describe('the engine with a plan: graph cache and tensors', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  it('a slider change (weights, scale, colour style) reuses the compiled graphs; a new property set compiles more', async () => {
    const be = counting(createNodeBackend(1));
    engine = new Engine(be);
    await engine.load(tiny());
    const run = async (g: Partial<RestoreRequest['guidance']>) => {
      const req = withGuidance('colorization', g, { sampler: { kind: 'ddpm', steps: 'ddpm10', seed: 4 } });
      return (await engine!.restore(req, { maxCalls: 2 })).images[0]!.data;
    };
    const first = await run({});
    const graphs = engine.compiledGraphs;
    const sessions = be.sessionsCreated;
    expect(graphs).toBeGreaterThan(0);
    const moved = await run({ scale: 0.5, weights: { lightness: 3, color: 0.5 }, style: { mean: [0.3, -0.2, 0.1], std: [0.2, 0.3, 0.4] } });
    expect(engine.compiledGraphs).toBe(graphs);
    expect(be.sessionsCreated).toBe(sessions);
    // the new values reached the graphs: the image changed
    expect(Buffer.from(moved).equals(Buffer.from(first))).toBe(false);
    await run({ weights: { lightness: 1, color: 0.05, smooth: 1 } });
    expect(engine.compiledGraphs).toBeGreaterThan(graphs);
    expect(be.sessionsCreated).toBeGreaterThan(sessions);
  });

  it('disposes every tensor it creates, the reference photos and identity weights included', async () => {
    const be = counting(createNodeBackend(1));
    engine = new Engine(be);
    await engine.load(tiny());
    const req = request('reference', img, { references: [syntheticImage(64, 9), syntheticImage(32, 5)], previewEvery: 1, previewSize: 16 });
    await engine.restore(req, { maxCalls: 3 });
    expect(be.alive.size).toBe(0);
    expect(engine.liveTensors).toBe(0);
    await engine.restore(request('inpainting', img, { mask: syntheticImage(64, 3), variants: 2 }), { maxCalls: 2 });
    expect(be.alive.size).toBe(0);
  });
});
