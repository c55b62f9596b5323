/**
 * The super-resolution step in the real worker (headless Chromium, WASM): the ESRGAN-slim models load from their
 * components manifest through the models module into Cache Storage, and a later page (a new worker) with the model
 * files blocked still enlarges with them, from the cache. Small shapes: 24 px to 48 px, one x2 pass.
 */
import { expect, test, type Page } from '@playwright/test';
import type { EngineApi } from '../workers/api';

type Remote = { api: EngineApi };

async function harness(page: Page): Promise<void> {
  await page.goto('/e2e/harness/engine.html?backend=wasm');
  await expect(page.locator('#status')).toHaveText('ready');
}

/** Enlarge a 24 px test pattern to 48 px with ESRGAN in the worker. */
function upscaleInPage(page: Page) {
  return page.evaluate(async () => {
    const { api } = (window as unknown as { __engine: Remote }).__engine;
    const size = 24;
    const data = new Uint8ClampedArray(size * size * 4);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = (y * size + x) * 4;
        data[i] = 40 + 8 * x;
        data[i + 1] = 40 + 8 * y;
        data[i + 2] = (x + y) % 6 < 3 ? 200 : 60;
        data[i + 3] = 255;
      }
    const r = await api.upscale({ width: size, height: size, data }, 48, 48, 'esrgan');
    let sum = 0;
    for (let i = 0; i < r.image.data.length; i++) sum += r.image.data[i]!;
    return { method: r.method, passes: r.passes, width: r.image.width, height: r.image.height, reason: r.fallbackReason ?? null, sum };
  });
}

test('the super-resolution step loads from its components manifest in the worker, and from the cache when the files are blocked', async ({
  page,
}) => {
  const requests: { path: string; blocked: boolean }[] = [];
  let block = false;
  await page.route('**/models/common/upscaler/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    requests.push({ path, blocked: block });
    if (block) return route.abort('internetdisconnected');
    return route.continue();
  });
  await harness(page);
  // start from an empty cache (an earlier run in this profile may have filled it)
  await page.evaluate(async () => {
    for (const k of await caches.keys()) await caches.delete(k);
  });

  const first = await upscaleInPage(page);
  expect(first).toMatchObject({ method: 'esrgan', passes: [2], width: 48, height: 48, reason: null });
  expect(requests.map((r) => r.path)).toEqual([
    '/models/common/upscaler/manifest.json',
    '/models/common/upscaler/esrgan-slim-x2.onnx',
    '/models/common/upscaler/esrgan-slim-x4.onnx',
  ]);
  // the models cache lists them under the manifest's name (bytes: the two models and the manifest)
  const cache = await page.evaluate(async () => (window as unknown as { __engine: Remote }).__engine.api.modelCache());
  const set = cache.sets.find((x) => x.set === 'upscaler');
  expect(set).toMatchObject({ set: 'upscaler', setVersion: '1.0.0', files: 2 });
  expect(set!.bytes).toBeGreaterThanOrEqual(890_731 + 936_239);

  // a new page and worker, the upscaler's files unreachable: the same result, from Cache Storage
  block = true;
  requests.length = 0;
  await page.reload();
  await expect(page.locator('#status')).toHaveText('ready');
  const second = await upscaleInPage(page);
  expect(second).toEqual(first);
  // only the manifest was asked for (to notice a new version), and it was refused
  expect(requests.map((r) => [r.path, r.blocked])).toEqual([['/models/common/upscaler/manifest.json', true]]);
});
