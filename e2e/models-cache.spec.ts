/**
 * The real Cache Storage path in headless Chromium: a first load downloads and caches the model set;
 * after a reload with the model server blocked, the set loads from the cache alone; clearing the cache
 * makes the blocked load fail. The loader runs as Vite serves it; model files come from page.route.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { FileServer } from '../tests/helpers/models/file-server';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const prior = randomBytes(3_000_000);
const restorer = randomBytes(1_000_000);
const file = (path: string, data: Buffer) => ({ path, sha256: sha(data), bytes: data.byteLength, dtype: 'float32' });
const manifest = {
  format: 'pgdiff-model-set',
  version: 1,
  name: 'e2e-cache',
  setVersion: '1',
  licence: 'random test bytes',
  resolution: 64,
  diffusion: { steps: 1000, schedule: 'linear', variance: 'learned-range', prediction: 'epsilon', timestep: 'original-index' },
  alignment: {
    template: [
      [24, 28],
      [40, 28],
      [32, 37],
      [26, 46],
      [38, 46],
    ],
    size: 64,
  },
  preprocessing: { range: '[-1,1]', channels: 'RGB', layout: 'NCHW' },
  models: [
    {
      role: 'prior',
      files: { fp32: file('prior.onnx', prior) },
      inputs: [{ name: 'x', shape: [1, 3, 64, 64], dtype: 'float32' }],
      outputs: [{ name: 'y', shape: [1, 6, 64, 64], dtype: 'float32' }],
    },
    {
      role: 'restorer',
      files: { fp32: file('restorer.onnx', restorer) },
      inputs: [{ name: 'y', shape: [1, 3, 64, 64], dtype: 'float32' }],
      outputs: [{ name: 'x0', shape: [1, 3, 64, 64], dtype: 'float32' }],
    },
  ],
  testOnly: true,
};
const served: Record<string, Buffer> = {
  '/e2e-models/set/manifest.json': Buffer.from(JSON.stringify(manifest)),
  '/e2e-models/set/prior.onnx': prior,
  '/e2e-models/set/restorer.onnx': restorer,
};

interface PageResult {
  ok: boolean;
  code?: string;
  message?: string;
  models?: { role: string; fromCache: boolean; sha256: string }[];
  warnings?: string[];
  entries?: { kind: string; file: string; set: string; bytes: number }[];
  progressEnds?: Record<string, number>;
}

/** Run the loader inside the page (module served by Vite) against the real Cache Storage. */
async function loadInPage(
  page: Page,
  clearFirst = false,
  manifestUrl = '/e2e-models/set/manifest.json',
  useCache = true,
): Promise<PageResult> {
  return page.evaluate(
    async ([clear, url, withCache]) => {
      const loader = await import(/* @vite-ignore */ `${location.origin}/workers/models/loader.ts`);
      const cache = await import(/* @vite-ignore */ `${location.origin}/workers/models/cache.ts`);
      const store = new cache.CacheStorageModelStore(caches);
      if (clear) await store.clear();
      const hex = async (b: Uint8Array<ArrayBuffer>) =>
        Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b)), (x) => x.toString(16).padStart(2, '0')).join('');
      const progressEnds: Record<string, number> = {};
      try {
        const set = await loader.loadModelSet(
          { kind: 'url', manifestUrl: url },
          {
            store: withCache ? store : null,
            progressIntervalMs: 0,
            retry: { maxRetries: 1, delaysMs: [10] },
            onProgress: (e: { status: string; file: string; loaded: number }) => {
              if (e.status === 'download') progressEnds[e.file] = e.loaded;
            },
          },
        );
        const models = [];
        for (const m of set.models as { role: string; fromCache: boolean; bytes: Uint8Array<ArrayBuffer> }[]) {
          models.push({ role: m.role, fromCache: m.fromCache, sha256: await hex(m.bytes) });
        }
        type Entry = { kind: string; file: string; set: string; bytes: number };
        const listed = withCache ? ((await store.list()) as Entry[]) : [];
        const entries = listed.map(({ kind, file, set, bytes }) => ({ kind, file, set, bytes }));
        return { ok: true, models, warnings: set.warnings as string[], entries, progressEnds };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false, code: err.code, message: err.message };
      }
    },
    [clearFirst, manifestUrl, useCache] as const,
  );
}

test('models load offline from Cache Storage on the second visit', async ({ page }) => {
  const requests: { path: string; served: boolean }[] = [];
  let blocked = false;
  // A blank page at the Vite origin (http://localhost: a secure context, so Cache Storage exists).
  await page.route('**/__models-cache-blank', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>models cache</title>' }),
  );
  await page.route('**/e2e-models/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    requests.push({ path, served: !blocked });
    if (blocked) return route.abort('internetdisconnected');
    const body = served[path];
    return body
      ? route.fulfill({ status: 200, body, contentType: 'application/octet-stream' })
      : route.fulfill({ status: 404, body: 'no' });
  });

  await page.goto('/__models-cache-blank');
  const first = await loadInPage(page, true);
  expect(first.ok, first.message).toBe(true);
  expect(first.models).toEqual([
    { role: 'prior', fromCache: false, sha256: sha(prior) },
    { role: 'restorer', fromCache: false, sha256: sha(restorer) },
  ]);
  expect(first.progressEnds).toEqual({ 'prior.onnx': prior.byteLength, 'restorer.onnx': restorer.byteLength });
  expect(first.entries?.filter((e) => e.kind === 'model').sort((a, b) => a.file.localeCompare(b.file))).toEqual([
    { kind: 'model', file: 'prior.onnx', set: 'e2e-cache', bytes: prior.byteLength },
    { kind: 'model', file: 'restorer.onnx', set: 'e2e-cache', bytes: restorer.byteLength },
  ]);
  expect(requests.map((r) => r.path).sort()).toEqual([
    '/e2e-models/set/manifest.json',
    '/e2e-models/set/prior.onnx',
    '/e2e-models/set/restorer.onnx',
  ]);

  // Second visit, offline: a new page context in the same browser profile, the model server blocked.
  blocked = true;
  requests.length = 0;
  await page.reload();
  const second = await loadInPage(page);
  expect(second.ok, second.message).toBe(true);
  expect(second.models).toEqual([
    { role: 'prior', fromCache: true, sha256: sha(prior) },
    { role: 'restorer', fromCache: true, sha256: sha(restorer) },
  ]);
  expect(requests.filter((r) => r.served)).toEqual([]);
  expect(requests.every((r) => r.path === '/e2e-models/set/manifest.json')).toBe(true);
  expect(second.warnings?.join('\n')).toMatch(/Could not reach .*manifest\.json.*using the copy cached on/);

  // Cleared cache, still offline: the load fails with a network error.
  await page.reload();
  const third = await loadInPage(page, true);
  expect(third.ok).toBe(false);
  expect(third.code).toBe('network');
  expect(third.message).toMatch(/Could not download the manifest/);
});

test('a cross-origin download resumes after dropped connections in Chromium; without CORS the error says so', async ({ page }) => {
  const server = await new FileServer({ cors: true }).start();
  const noCors = await new FileServer().start();
  try {
    for (const s of [server, noCors]) for (const [path, body] of Object.entries(served)) s.files.set(path, body);
    server.drops.set('/e2e-models/set/prior.onnx', { afterBytes: 1_000_000, times: 2 });
    // A document the Vite server itself sends: Chromium then knows the page is on loopback and lets it
    // fetch from the other loopback port (a page made by route.fulfill counts as public and is refused).
    await page.goto('/package.json');

    const r = await loadInPage(page, false, server.url('/e2e-models/set/manifest.json'), false);
    expect(r.ok, r.message).toBe(true);
    expect(r.models?.map((m) => m.sha256)).toEqual([sha(prior), sha(restorer)]);
    const reqs = server.requests('/e2e-models/set/prior.onnx');
    expect(reqs.map((q) => q.status)).toEqual([200, 206, 206]);
    const starts = reqs.slice(1).map((q) => Number(/^bytes=(\d+)-$/.exec(q.range ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    expect(r.progressEnds?.['prior.onnx']).toBe(prior.byteLength);

    const e = await loadInPage(page, false, noCors.url('/e2e-models/set/manifest.json'), false);
    expect(e.ok).toBe(false);
    expect(e.code).toBe('network');
    expect(e.message).toMatch(/may not allow cross-origin requests: CORS/);
  } finally {
    await server.close();
    await noCors.close();
  }
});
