import { describe, expect, it } from 'vitest';
import { Engine, type StepDump } from '../../workers/engine/engine';
import { GraphBuilder } from '../../workers/engine/graph/builder';
import { seededNoise } from '../../workers/engine/rng';
import { createNodeBackend } from '../../workers/runtime/node';
import { request, syntheticImage } from './helpers';
import { tinySet } from './tiny-set';

/** A stand-in "perceptual" gradient graph: L = sum (x0 - y)^2 / 2, so dL/dx0 = x0 - y. */
function toyPerceptualGradient(H: number, W: number): Uint8Array {
  const g = new GraphBuilder('toy_perceptual');
  const x0 = g.input('x0', [1, 3, H, W]);
  const y = g.input('y', [1, 3, H, W]);
  g.output(g.sub(x0, y), 'grad', [1, 3, H, W]);
  return g.build();
}

// The extension point: a model set's 'perceptual' role is a gradient graph that the engine runs on
// x0_hat each step, weights and adds to the analytic properties.
describe('model-based properties (perceptual / adversarial extension point)', () => {
  it('a perceptual gradient graph with weight w equals the unmasked property with weight w/2', async () => {
    const set = tinySet('linear', 'learned-range');
    set.files.perceptual = toyPerceptualGradient(64, 64);
    const img = { shape: [1, 3, 64, 64], dtype: 'float32' as const };
    set.manifest.models.push({
      ...set.manifest.models[0]!,
      role: 'perceptual',
      inputs: [
        { name: 'x0', ...img },
        { name: 'y', ...img },
      ],
      outputs: [{ name: 'grad', ...img }],
    });
    const run = async (weights: Record<string, number>) => {
      const engine = new Engine(createNodeBackend(1));
      await engine.load(set);
      const dumps: StepDump[] = [];
      const req = request('custom', syntheticImage(64));
      req.guidance = { ...req.guidance, weights, update: 'mean-shift', scale: 0.1 };
      await engine.restore(req, { noise: seededNoise(3), onStepDump: (d) => dumps.push(d), maxCalls: 3 });
      await engine.dispose();
      return dumps;
    };
    // unmasked: dL/dx0 = 2 w (x0 - y); the toy graph gives (x0 - y), weighted by the engine
    const a = await run({ perceptual: 0.6 });
    const b = await run({ unmasked: 0.3 });
    expect(a).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      let m = 0;
      let big = 0;
      for (let i = 0; i < a[k]!.grad!.length; i++) {
        m = Math.max(m, Math.abs(a[k]!.grad![i]! - b[k]!.grad![i]!));
        big = Math.max(big, Math.abs(b[k]!.grad![i]!));
      }
      expect(big).toBeGreaterThan(0);
      expect(m / big).toBeLessThan(1e-5);
    }
  });

  it('asks for the model when the set has none', async () => {
    const engine = new Engine(createNodeBackend(1));
    await engine.load(tinySet('linear', 'learned-range'));
    const req = request('custom', syntheticImage(64));
    req.guidance = { ...req.guidance, weights: { adversarial: 0.01 } };
    await expect(engine.restore(req)).rejects.toThrow(/no discriminator model, which the adversarial property needs/);
    await engine.dispose();
  });
});
