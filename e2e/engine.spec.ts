import { expect, test, type Page } from '@playwright/test';
import type { EngineApi, ProgressEvent, RestoreRequest } from '../workers/api';
import { latentKeep } from '../workers/engine/plan';
import { request, squareMask, syntheticImage } from '../tests/engine/helpers';

// The engine in headless Chromium. WebGPU here is swiftshader (software, ~20-70x slower than
// WASM), so shapes are the tiny 64x64 test set and only a few sampler calls.

type Remote = { api: EngineApi; proxy: <T>(x: T) => T };

async function harness(page: Page, backend: 'webgpu' | 'wasm' = 'webgpu'): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  await page.goto(`/e2e/harness/engine.html?backend=${backend}`);
  await expect(page.locator('#status')).toHaveText('ready');
}

function blindRequest(steps: string, previewEvery: number): RestoreRequest {
  const size = 64;
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    data[i * 4] = 100 + ((i * 7) % 60);
    data[i * 4 + 1] = 90 + ((i * 3) % 50);
    data[i * 4 + 2] = 80 + ((i * 11) % 40);
    data[i * 4 + 3] = 255;
  }
  return {
    image: { width: size, height: size, data },
    guidance: {
      task: 'blind',
      weights: { smooth: 1 },
      scale: 0.1,
      update: 'mean-shift',
      zeroGradInMask: false,
      gradSteps: 1,
      sStart: 1,
      sEnd: 0.7,
    },
    sampler: { kind: 'ddpm', steps: steps as `ddpm${number}`, seed: 5 },
    previewEvery,
    previewSize: 16,
  };
}

test('a guided restoration runs in the worker on WebGPU with no full-size readback between steps', async ({ page }) => {
  await harness(page, 'webgpu');
  const out = await page.evaluate(
    async (req) => {
      const { api, proxy } = (window as unknown as { __engine: Remote }).__engine;
      const caps = await api.capabilities();
      await api.loadModels({ kind: 'url', manifestUrl: '/tests/fixtures/models/tiny/manifest.json' });
      const events: ProgressEvent[] = [];
      const res = await api.restore(
        'e2e-1',
        req,
        proxy((e: ProgressEvent) => void events.push(e)),
      );
      return {
        caps,
        steps: events.filter((e) => e.status === 'step').map((e) => (e.status === 'step' ? [e.step, e.total, e.preview?.width ?? 0] : [])),
        done: events.some((e) => e.status === 'done'),
        size: [res.images[0]!.width, res.images[0]!.height],
        opaque: res.images[0]!.data[3],
        stats: res.stats,
        restorer: res.restorerEstimate ? res.restorerEstimate.width : 0,
      };
    },
    blindRequest('ddpm2', 1),
  );
  expect(out.caps.webgpu).toBe(true);
  expect(out.caps.backend).toBe('webgpu');
  expect(out.stats.backend).toBe('webgpu');
  expect(out.steps).toEqual([
    [1, 2, 16],
    [2, 2, 16],
  ]);
  expect(out.done).toBe(true);
  expect(out.size).toEqual([64, 64]);
  expect(out.opaque).toBe(255);
  expect(out.restorer).toBe(64);
  // only the two 16x16 previews crossed to the CPU between steps: never a 64x64 tensor
  expect(out.stats.largestReadbackBetweenSteps).toBe(3 * 16 * 16);
  expect(out.stats.readbackBytesBetweenSteps).toBe(2 * 3 * 16 * 16 * 4);
});

test('WebGPU matches the Python reference (inpainting golden, first calls) and frees its tensors', async ({ page }) => {
  await harness(page, 'webgpu');
  const r = await page.evaluate(() =>
    (
      window as unknown as {
        __golden: (
          n: string,
          b: string,
          c: number,
        ) => Promise<{ backend: string; diffs: number[]; live: number; xs: number[][]; stats: { largestReadbackBetweenSteps: number } }>;
      }
    ).__golden('inpainting', 'webgpu', 2),
  );
  console.log(`WebGPU inpainting golden: per-call max abs diff ${r.diffs.map((d) => d.toExponential(2)).join(', ')}`);
  expect(r.backend).toBe('webgpu');
  expect(r.diffs).toHaveLength(2);
  for (const d of r.diffs) expect(d).toBeLessThanOrEqual(1e-3);
  expect(r.live).toBe(0);
  expect(r.stats.largestReadbackBetweenSteps).toBe(0);
  // the WASM fallback gives the same numbers
  const w = await page.evaluate(() =>
    (
      window as unknown as { __golden: (n: string, b: string, c: number) => Promise<{ backend: string; diffs: number[]; xs: number[][] }> }
    ).__golden('inpainting', 'wasm', 2),
  );
  expect(w.backend).toBe('wasm');
  for (const d of w.diffs) expect(d).toBeLessThanOrEqual(1e-4);
  let m = 0;
  r.xs.forEach((row, k) => row.forEach((v, i) => (m = Math.max(m, Math.abs(v - (w.xs[k]![i] as number))))));
  console.log(`WebGPU vs WASM: ${m.toExponential(2)}`);
  expect(m).toBeLessThanOrEqual(1e-3);
});

test('WebGPU runs a latent set: matches the latent reference (inpainting, first calls), no readbacks between steps', async ({ page }) => {
  await harness(page, 'webgpu');
  type Stats = { largestReadbackBetweenSteps: number; phaseMs: Record<string, number> };
  type R = { backend: string; diffs: number[]; live: number; stats: Stats };
  const r = await page.evaluate(() =>
    (window as unknown as { __golden: (n: string, b: string, c: number, l: boolean) => Promise<R> }).__golden(
      'inpainting',
      'webgpu',
      3,
      true,
    ),
  );
  console.log(`WebGPU latent inpainting golden: per-call max abs diff ${r.diffs.map((d) => d.toExponential(2)).join(', ')}`);
  expect(r.backend).toBe('webgpu');
  expect(r.diffs).toHaveLength(3);
  for (const d of r.diffs) expect(d).toBeLessThanOrEqual(1e-3);
  expect(r.live).toBe(0);
  expect(r.stats.largestReadbackBetweenSteps).toBe(0);
});

test("WebGPU blends latents for inpainting: ends on the photo's latent outside the mask whatever the seed, as WASM does", async ({
  page,
}) => {
  await harness(page, 'webgpu');
  const mask = squareMask(64, 16, 48);
  const req = request('inpainting', syntheticImage(64), { mask, keepUnmasked: true, sampler: { kind: 'ddpm', steps: 'ddpm3', seed: 1 } });
  type R = { backend: string; last: number[][]; live: number };
  const run = (backend: 'webgpu' | 'wasm', seeds: number[]) =>
    page.evaluate(
      ([b, r, s]) => (window as unknown as { __blend: (b: string, r: RestoreRequest, s: number[]) => Promise<R> }).__blend(b, r, s),
      [backend, req, seeds] as const,
    );
  const gpu = await run('webgpu', [1, 2]);
  const wasm = await run('wasm', [1]);
  expect(gpu.backend).toBe('webgpu');
  expect(wasm.backend).toBe('wasm');
  const keep = latentKeep(mask, 4, 0); // the engine's margin (BLEND_MARGIN_CELLS) is 0
  const [a, b] = gpu.last as [number[], number[]];
  let keptDiff = 0;
  let holeDiffer = 0;
  let gpuVsWasm = 0;
  for (let i = 0; i < a.length; i++) {
    if (keep[i % 256] === 1) keptDiff = Math.max(keptDiff, Math.abs(a[i]! - b[i]!));
    else if (Math.abs(a[i]! - b[i]!) > 1e-3) holeDiffer++;
    gpuVsWasm = Math.max(gpuVsWasm, Math.abs(a[i]! - wasm.last[0]![i]!));
  }
  console.log(
    `WebGPU blended latents: kept cells across seeds ${keptDiff.toExponential(2)}, hole values that differ ${holeDiffer}/256, vs WASM ${gpuVsWasm.toExponential(2)}`,
  );
  expect(a).toHaveLength(4 * 256);
  expect(keptDiff).toBeLessThanOrEqual(1e-6);
  expect(holeDiffer).toBeGreaterThan(4 * 64 * 0.9);
  expect(gpuVsWasm).toBeLessThanOrEqual(1e-3);
  expect(gpu.live).toBe(0);
});

test('cancelling stops within a step, frees the run and leaves the worker usable (WASM)', async ({ page }) => {
  await harness(page, 'wasm');
  const r = await page.evaluate(
    async (req) => {
      const { api, proxy } = (window as unknown as { __engine: Remote }).__engine;
      await api.loadModels({ kind: 'url', manifestUrl: '/tests/fixtures/models/tiny/manifest.json' });
      let stepsSeen = 0;
      let cancelAt = -1;
      const run = api.restore(
        'e2e-cancel',
        req,
        proxy((e: ProgressEvent) => {
          if (e.status === 'step') {
            stepsSeen = e.step;
            if (e.step === 2) {
              cancelAt = e.step;
              void api.cancel('e2e-cancel');
            }
          }
        }),
      );
      let error: { code?: string; message?: string } | null = null;
      try {
        await run;
      } catch (e) {
        // plain fields: Playwright hands an Error back with its message only, and the code is what is checked
        error = { code: (e as { code?: string }).code, message: (e as Error).message };
      }
      const again = await api.restore('e2e-again', { ...req, sampler: { ...req.sampler, steps: 'ddpm2' } });
      return { error, stepsSeen, cancelAt, againSize: again.images[0]!.width };
    },
    blindRequest('ddpm10', 0),
  );
  expect(r.error?.code).toBe('cancelled');
  // the cancel arrives while step 3 may already be running: it stops at the next step boundary
  expect(r.stepsSeen).toBeLessThanOrEqual(r.cancelAt + 1);
  expect(r.againSize).toBe(64);
});

test('bad input is refused with a specific message and the worker stays usable', async ({ page }) => {
  await harness(page, 'wasm');
  const r = await page.evaluate(
    async (req) => {
      const { api } = (window as unknown as { __engine: Remote }).__engine;
      await api.loadModels({ kind: 'url', manifestUrl: '/tests/fixtures/models/tiny/manifest.json' });
      const errs: ({ code?: string; message: string } | null)[] = [];
      for (const bad of [
        { ...req, mask: { width: 32, height: 32, data: new Uint8ClampedArray(32 * 32 * 4) } },
        { ...req, image: { width: 60, height: 60, data: new Uint8ClampedArray(60 * 60 * 4) } },
        { ...req, guidance: { ...req.guidance, weights: { identity: 25 } } },
        { ...req, sampler: { ...req.sampler, steps: 'ddpm999' as const } },
      ]) {
        try {
          await api.restore('bad', bad);
          errs.push(null);
        } catch (e) {
          errs.push({ code: (e as { code?: string }).code, message: (e as Error).message });
        }
      }
      const ok = await api.restore('ok', { ...req, sampler: { ...req.sampler, steps: 'ddpm2' } });
      return { errs, ok: ok.images.length };
    },
    blindRequest('ddpm2', 0),
  );
  const msgs = r.errs.map((e) => `${e?.code}: ${e?.message}`);
  expect(msgs[0]).toMatch(/^bad-input: The mask is 32x32 but the photo is 64x64/);
  expect(msgs[1]).toMatch(/^bad-input: .*multiples of 8/);
  expect(msgs[2]).toMatch(/^bad-input: .*reference photo/);
  expect(msgs[3]).toMatch(/^bad-input: Steps "ddpm999"/);
  expect(r.ok).toBe(1);
});
