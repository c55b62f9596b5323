import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from './manifest';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const tinyLatent = path.resolve(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'models', 'tiny-latent', 'manifest.json');
const good = (): J => JSON.parse(readFileSync(tinyLatent, 'utf8')) as J;

function issuesOf(change: (m: J) => void): { path: string; message: string }[] {
  const m = good();
  change(m);
  try {
    parseManifest(m, 'latent.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).issues;
  }
  throw new Error('the manifest was accepted');
}

describe('parseManifest: latent sets', () => {
  it('accepts the tiny latent set and keeps its latent block', () => {
    const m = parseManifest(good(), 'latent.json');
    expect(m.latent?.channels).toBe(4);
    expect(m.latent?.downscale).toBe(4);
    expect(m.latent?.std).toHaveLength(4);
    expect(m.latent?.preview?.matrix).toHaveLength(12);
    expect(m.models.map((e) => e.role)).toEqual(expect.arrayContaining(['prior', 'decoder', 'decoder-vjp']));
  });

  it('names the field of each problem in the latent block', () => {
    const issues = issuesOf((m) => {
      m.latent.std[2] = 0;
      m.latent.mean = [1, 2];
      m.latent.downscale = 5;
      m.latent.preview.bias = [0, 0];
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('latent.std[2]');
    expect(paths).toContain('latent.mean');
    expect(paths).toContain('latent.downscale');
    expect(paths).toContain('latent.preview.bias');
    expect(issues.find((i) => i.path === 'latent.downscale')?.message).toMatch(/64 is not a multiple of .*5/);
  });

  it('needs decoder and decoder-vjp with a latent block, and a latent block with them', () => {
    const missing = issuesOf((m) => {
      m.models = m.models.filter((e: J) => e.role !== 'decoder-vjp');
    });
    expect(missing.some((i) => i.path === 'models' && /"decoder-vjp"/.test(i.message))).toBe(true);
    const stray = issuesOf((m) => {
      delete m.latent;
    });
    expect(stray.some((i) => /belongs to latent sets/.test(i.message))).toBe(true);
  });

  it('checks the prior against the latent grid and channels', () => {
    const issues = issuesOf((m) => {
      const prior = m.models.find((e: J) => e.role === 'prior');
      prior.inputs[0].shape = [1, 4, 64, 64];
      prior.outputs[0].shape = [1, 5, 'H', 'W'];
    });
    expect(issues.find((i) => /inputs\[0\]\.shape\[2\]/.test(i.path))?.message).toMatch(
      /16 \(the manifest's resolution \/ latent.downscale\)/,
    );
    expect(issues.find((i) => /outputs\[0\]\.shape\[1\]/.test(i.path))?.message).toMatch(/expected 8 channels/);
  });

  it('validates per-task defaults', () => {
    const ok = good();
    ok.defaults = { blind: { scale: 0.5, steps: 50, sampler: 'ddpm', gradSteps: 1, update: 'dynamic-global', advised: [0.1, 2] } };
    expect(parseManifest(ok, 'x').defaults?.blind?.advised).toEqual([0.1, 2]);
    const issues = issuesOf((m) => {
      m.defaults = { blur: {}, inpainting: { scale: -1, steps: 0, sampler: 'euler', gradSteps: 1, advised: [2, 1] } };
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'defaults.blur',
        'defaults.inpainting.scale',
        'defaults.inpainting.steps',
        'defaults.inpainting.sampler',
        'defaults.inpainting.advised',
      ]),
    );
  });

  it('a start below T is a fraction in (0, 1] and, in a latent set, needs the encoder', () => {
    const start = (v: unknown) =>
      issuesOf((m) => {
        m.defaults = { blind: { scale: 0.5, steps: 50, sampler: 'ddpm', gradSteps: 1, start: v } };
      }).filter((i) => i.path === 'defaults.blind.start');
    expect(start(0)[0]?.message).toMatch(/fraction of T in \(0, 1\]/);
    expect(start(1.5)[0]?.message).toMatch(/fraction of T in \(0, 1\]/);
    // the fixture set has no encoder: starting from an estimate cannot encode it
    expect(start(0.3)[0]?.message).toMatch(/needs the set's "encoder" model/);
    const ok = good();
    ok.defaults = { blind: { scale: 0.5, steps: 50, sampler: 'ddpm', gradSteps: 1, start: 1 } };
    expect(parseManifest(ok, 'x').defaults?.blind?.start).toBe(1);
  });
});
