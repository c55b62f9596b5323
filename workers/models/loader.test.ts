import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../api';
import { CacheStorageModelStore } from './cache';
import { ModelLoadError, checkFitsDevice, loadModelSet, modelFor, type LoadOptions } from './loader';
import { parseManifest } from './manifest';
import { FileServer } from '../../tests/helpers/models/file-server';
import { manifestJson, randomFile, sha256Of } from '../../tests/helpers/models/fixtures';
import { MemoryCacheStorage } from '../../tests/helpers/models/memory-cache-storage';

const prior = { path: 'prior.onnx', data: randomFile(300_000) };
const priorFp16 = { path: 'prior.fp16.onnx', data: randomFile(150_000) };
const restorer = { path: 'restorer.onnx', data: randomFile(200_000) };
const manifest = manifestJson({
  prior,
  priorFp16,
  restorer,
  params: { largestTensorBytes: { fp32: 40_000, fp16: 20_000 }, largestTensorName: 'w1' },
});

let server: FileServer;
const fast = { retry: { maxRetries: 3, delaysMs: [5, 10, 20] }, progressIntervalMs: 0 } satisfies LoadOptions;

function serve(s: FileServer, m: Record<string, unknown> = manifest, dir = '/set') {
  s.files.set(`${dir}/manifest.json`, new TextEncoder().encode(JSON.stringify(m)));
  for (const f of [prior, priorFp16, restorer]) s.files.set(`${dir}/${f.path}`, f.data);
}

beforeAll(async () => {
  server = await new FileServer().start();
  serve(server);
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.log.length = 0;
  server.range = true;
  server.offline = false;
  server.drops.clear();
  server.failures.clear();
  server.stalls.clear();
  server.stale.clear();
});

async function rejection(p: Promise<unknown>): Promise<ModelLoadError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelLoadError);
  return e as ModelLoadError;
}

describe('loadModelSet from a URL', () => {
  it('loads every role, checks hashes, emits monotonic progress ending at total', async () => {
    const events: ProgressEvent[] = [];
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, onProgress: (e) => events.push(e) },
    );
    expect(set.models.map((m) => [m.role, m.precision])).toEqual([
      ['prior', 'fp32'],
      ['restorer', 'fp32'],
    ]);
    expect(sha256Of(modelFor(set, 'prior')!.bytes)).toBe(sha256Of(prior.data));
    expect(Buffer.from(modelFor(set, 'restorer')!.bytes).equals(Buffer.from(restorer.data))).toBe(true);
    expect(set.totalBytes).toBe(500_000);
    for (const f of ['prior.onnx', 'restorer.onnx']) {
      const ev = events.filter((e): e is Extract<ProgressEvent, { status: 'download' }> => e.status === 'download' && e.file === f);
      expect(ev.length).toBeGreaterThan(1);
      for (let i = 1; i < ev.length; i++) expect(ev[i]!.loaded).toBeGreaterThan(ev[i - 1]!.loaded);
      expect(ev.at(-1)).toMatchObject({ loaded: ev[0]!.total, total: f === 'prior.onnx' ? 300_000 : 200_000 });
    }
    // the set's bytes by role and its info are made once, by the loader
    expect(set.files.prior).toBe(modelFor(set, 'prior')!.bytes);
    expect(set.files.restorer).toBe(modelFor(set, 'restorer')!.bytes);
    const info = set.info;
    expect(info).toMatchObject({ name: 'fixture', version: '0.0.1', resolution: 64, roles: ['prior', 'restorer'], totalBytes: 500_000 });
    expect(info.template).toHaveLength(5);
    expect(info.testOnly).toBe(true); // from the manifest (the fixture is a test set), not from its name
  });

  it('picks fp16 files with shader-f16', async () => {
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, shaderF16: true, roles: ['prior'] },
    );
    expect(set.models).toHaveLength(1);
    expect(set.models[0]).toMatchObject({ role: 'prior', precision: 'fp16', file: { path: 'prior.fp16.onnx' } });
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(priorFp16.data));
    expect(server.requests('/set/prior.onnx')).toHaveLength(0);
  });

  it('resumes with Range after a dropped connection', async () => {
    server.drops.set('/set/prior.onnx', { afterBytes: 70_000, times: 2 });
    const events: ProgressEvent[] = [];
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, roles: ['prior'], onProgress: (e) => events.push(e) },
    );
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(prior.data));
    const reqs = server.requests('/set/prior.onnx');
    expect(reqs.map((r) => r.status)).toEqual([200, 206, 206]);
    expect(reqs[0]!.range).toBeUndefined();
    // Each retry continues from what had arrived (up to the 70 000 bytes flushed before each drop;
    // bytes still queued in the client's stream when it errors are lost, so only > 0 is certain).
    const starts = reqs.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[0]).toBeLessThanOrEqual(70_000);
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    expect(starts[1]).toBeLessThanOrEqual(starts[0]! + 70_000);
    expect(reqs[1]!.ifRange).toMatch(/^"/);
    const loaded = events.flatMap((e) => (e.status === 'download' ? [e.loaded] : []));
    for (let i = 1; i < loaded.length; i++) expect(loaded[i]).toBeGreaterThan(loaded[i - 1]!);
    expect(loaded.at(-1)).toBe(300_000);
  });

  it('restarts from zero when the server ignores Range', async () => {
    server.range = false;
    server.drops.set('/set/prior.onnx', { afterBytes: 100_000, times: 1 });
    const events: number[] = [];
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, roles: ['prior'], onProgress: (e) => e.status === 'download' && events.push(e.loaded) },
    );
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(prior.data));
    const reqs = server.requests('/set/prior.onnx');
    expect(reqs.map((r) => r.status)).toEqual([200, 200]);
    expect(reqs[1]!.range).toMatch(/^bytes=\d+-$/); // asked to resume, got the whole file
    for (let i = 1; i < events.length; i++) expect(events[i]).toBeGreaterThan(events[i - 1]!);
    expect(events.at(-1)).toBe(300_000);
  });

  it('retries a 503 and gives up with a network error after maxRetries', async () => {
    server.failures.set('/set/restorer.onnx', { status: 503, times: 1 });
    const ok = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, roles: ['restorer'] },
    );
    expect(sha256Of(ok.models[0]!.bytes)).toBe(sha256Of(restorer.data));
    server.log.length = 0;
    server.failures.set('/set/restorer.onnx', { status: 503, times: 100 });
    const e = await rejection(
      loadModelSet({ kind: 'url', manifestUrl: server.url('/set/manifest.json') }, { ...fast, store: null, roles: ['restorer'] }),
    );
    expect(e.code).toBe('network');
    expect(e.message).toMatch(/restorer\.onnx: download failed after 4 attempts: .*HTTP 503/);
    expect(server.requests('/set/restorer.onnx')).toHaveLength(4);
  });

  it('retries a stalled connection', async () => {
    server.stalls.set('/set/restorer.onnx', { afterBytes: 50_000, times: 1 });
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, roles: ['restorer'], stallTimeoutMs: 1500 },
    );
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(restorer.data));
    expect(server.requests('/set/restorer.onnx').map((r) => r.status)).toEqual([200, 206]);
  });

  it('names the file and both hashes on an integrity failure', async () => {
    const bad = new FileServer();
    await bad.start();
    try {
      serve(bad);
      const damaged = prior.data.slice();
      damaged[1234] = damaged[1234]! ^ 0xff;
      bad.files.set('/set/prior.onnx', damaged);
      const e = await rejection(loadModelSet({ kind: 'url', manifestUrl: bad.url('/set/manifest.json') }, { ...fast, store: null }));
      expect(e.code).toBe('integrity');
      expect(e.file).toBe('prior.onnx');
      expect(e.message).toContain('prior.onnx');
      expect(e.message).toContain(`expected ${sha256Of(prior.data)}`);
      expect(e.message).toContain(`got ${sha256Of(damaged)}`);
      // Tried twice: the second time past the HTTP cache, in case the first was a stale cached copy.
      expect(bad.requests('/set/prior.onnx').map((r) => r.cacheControl)).toEqual([undefined, 'no-cache']);
      // A file of another size is refused as soon as its length is known.
      bad.files.set('/set/prior.onnx', prior.data.subarray(0, 1000));
      const e2 = await rejection(loadModelSet({ kind: 'url', manifestUrl: bad.url('/set/manifest.json') }, { ...fast, store: null }));
      expect(e2.code).toBe('integrity');
      expect(e2.message).toMatch(/prior\.onnx: the server has 1000 bytes but the manifest says 300000/);
    } finally {
      await bad.close();
    }
  });

  it('a stale copy that fails its hash is fetched again past the HTTP cache', async () => {
    server.stale.set('/set/restorer.onnx', { data: randomFile(200_000), times: 1 });
    const warnings: string[] = [];
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, roles: ['restorer'], onWarning: (w) => warnings.push(w) },
    );
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(restorer.data));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/restorer\.onnx: sha256 mismatch: .*downloading restorer\.onnx again, bypassing the browser's HTTP cache/);
    expect(server.requests('/set/restorer.onnx').map((r) => r.cacheControl)).toEqual([undefined, 'no-cache']);
  });

  it('reports missing manifests and files as not-found, bad manifests as invalid-manifest', async () => {
    const e1 = await rejection(loadModelSet({ kind: 'url', manifestUrl: server.url('/nope/manifest.json') }, { ...fast, store: null }));
    expect(e1.code).toBe('not-found');
    expect(e1.message).toMatch(/No model-set manifest at .*\/nope\/manifest\.json \(HTTP 404\)/);

    const other = structuredClone(manifest) as { models: { files: { fp32: { path: string } } }[] };
    other.models[1]!.files.fp32.path = 'missing.onnx';
    server.files.set('/m2/manifest.json', new TextEncoder().encode(JSON.stringify(other)));
    const e2 = await rejection(
      loadModelSet({ kind: 'url', manifestUrl: server.url('/m2/manifest.json') }, { ...fast, store: null, roles: ['restorer'] }),
    );
    expect(e2.code).toBe('not-found');
    expect(e2.message).toMatch(/missing\.onnx was not found at .*\/m2\/missing\.onnx \(HTTP 404\)/);

    server.files.set('/m3/manifest.json', new TextEncoder().encode('{"format": "pgdiff-model-set", "version": 7}'));
    const e3 = await rejection(loadModelSet({ kind: 'url', manifestUrl: server.url('/m3/manifest.json') }, { ...fast, store: null }));
    expect(e3.code).toBe('invalid-manifest');
    expect(e3.message).toMatch(/m3\/manifest\.json: version: unsupported manifest version number 7; this app reads version 1/);

    // a server that answers every path with its index page has no manifest there
    server.files.set('/m4/manifest.json', new TextEncoder().encode('<!doctype html><html>'));
    const e4 = await rejection(loadModelSet({ kind: 'url', manifestUrl: server.url('/m4/manifest.json') }, { ...fast, store: null }));
    expect(e4.code).toBe('not-found');
    expect(e4.message).toMatch(/m4\/manifest\.json \(the server answered with an HTML page\)/);
    server.files.set('/m5/manifest.json', new TextEncoder().encode('{"format": '));
    const e5 = await rejection(loadModelSet({ kind: 'url', manifestUrl: server.url('/m5/manifest.json') }, { ...fast, store: null }));
    expect(e5.code).toBe('invalid-manifest');
    expect(e5.message).toMatch(/not JSON/);
  });

  it('loads the bundled set from <base>models/<name>/manifest.json', async () => {
    const s = new FileServer();
    await s.start();
    try {
      serve(s, manifest, '/app/models/pgdiff-utk-latent');
      const set = await loadModelSet({ kind: 'bundled' }, { ...fast, store: null, bundledBaseUrl: s.url('/app/'), roles: ['restorer'] });
      expect(set.manifestUrl).toBe(s.url('/app/models/pgdiff-utk-latent/manifest.json'));
      expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(restorer.data));
      const e = await rejection(
        loadModelSet({ kind: 'bundled', name: '../secret' }, { ...fast, store: null, bundledBaseUrl: s.url('/app/') }),
      );
      expect(e.message).toMatch(/not a valid bundled model-set name/);
    } finally {
      await s.close();
    }
  });
});

describe('manifest-object source', () => {
  it('validates the given manifest and resolves files against baseUrl', async () => {
    const set = await loadModelSet(
      { kind: 'manifest-object', manifest, baseUrl: server.url('/set/') },
      { ...fast, store: null, roles: ['restorer'] },
    );
    expect(set.models[0]!.location).toBe(server.url('/set/restorer.onnx'));
    expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(restorer.data));
    expect(server.requests('/set/manifest.json')).toHaveLength(0);
    const e = await rejection(
      loadModelSet({ kind: 'manifest-object', manifest: { ...manifest, resolution: 0 }, baseUrl: server.url('/set/') }, { store: null }),
    );
    expect(e.code).toBe('invalid-manifest');
    expect(e.message).toMatch(/resolution: expected a positive integer, got number 0/);
  });
});

describe('cache', () => {
  it('second load makes no model requests; works offline; clear empties the cache', async () => {
    const storage = new MemoryCacheStorage();
    const store = new CacheStorageModelStore(storage);
    const src = { kind: 'url', manifestUrl: server.url('/set/manifest.json') } as const;
    const first = await loadModelSet(src, { ...fast, store });
    expect(first.models.every((m) => !m.fromCache)).toBe(true);
    const firstCount = server.log.length;
    expect(firstCount).toBe(3);

    server.log.length = 0;
    const events: ProgressEvent[] = [];
    const second = await loadModelSet(src, { ...fast, store, onProgress: (e) => events.push(e) });
    expect(second.models.every((m) => m.fromCache)).toBe(true);
    // Only the manifest is asked for (to notice a new version); no model file is requested.
    expect(server.log.map((r) => r.path)).toEqual(['/set/manifest.json']);
    expect(sha256Of(modelFor(second, 'prior')!.bytes)).toBe(sha256Of(prior.data));
    expect(events).toContainEqual({ status: 'download', file: 'prior.onnx', loaded: 300_000, total: 300_000 });

    // Offline: the manifest comes from the cache too, with a warning; zero requests succeed.
    server.log.length = 0;
    server.offline = true;
    const warnings: string[] = [];
    const offline = await loadModelSet(src, { ...fast, store, onWarning: (w) => warnings.push(w) });
    // One manifest attempt (no retries: a cached copy exists), then nothing.
    expect(server.log.map((r) => [r.path, r.status])).toEqual([['/set/manifest.json', -1]]);
    expect(offline.models.map((m) => m.fromCache)).toEqual([true, true]);
    expect(warnings.join('\n')).toMatch(/Could not reach .*manifest\.json.*using the copy cached on/);
    server.offline = false;

    const entries = await store.list();
    expect(
      entries
        .filter((e) => e.kind === 'model')
        .map((e) => [e.file, e.set, e.bytes])
        .sort(),
    ).toEqual([
      ['prior.onnx', 'fixture', 300_000],
      ['restorer.onnx', 'fixture', 200_000],
    ]);
    expect(entries.find((e) => e.file === 'prior.onnx')?.key).toBe(sha256Of(prior.data));
    const manifestBytes = entries.find((e) => e.kind === 'manifest')!.bytes;
    expect(await store.totalBytes()).toBe(500_000 + manifestBytes);

    expect(await store.clear('another-set')).toBe(0);
    expect(await store.clear('fixture')).toBe(3);
    expect(await store.list()).toEqual([]);
    await loadModelSet(src, { ...fast, store });
    expect(await store.clear()).toBe(3);
    expect(await store.totalBytes()).toBe(0);
    server.log.length = 0;
    await loadModelSet(src, { ...fast, store });
    expect(server.log.map((r) => r.path).sort()).toEqual(['/set/manifest.json', '/set/prior.onnx', '/set/restorer.onnx']);
    store.dispose();
  });

  it('a manifest server that does not answer times out; the cached copy is used', async () => {
    const store = new CacheStorageModelStore(new MemoryCacheStorage());
    const src = { kind: 'url', manifestUrl: server.url('/set/manifest.json') } as const;
    await loadModelSet(src, { ...fast, store, roles: ['restorer'] });
    server.stalls.set('/set/manifest.json', { afterBytes: 10, times: 1 });
    const warnings: string[] = [];
    const t0 = Date.now();
    const set = await loadModelSet(src, { ...fast, store, roles: ['restorer'], stallTimeoutMs: 500, onWarning: (w) => warnings.push(w) });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(set.models[0]!.fromCache).toBe(true);
    expect(warnings.join()).toMatch(/Could not reach .*no answer within 500 ms.*using the copy cached on/);
  });

  it('a changed file (new hash) is downloaded, never served from the cache', async () => {
    const s = new FileServer();
    await s.start();
    try {
      serve(s);
      const store = new CacheStorageModelStore(new MemoryCacheStorage());
      await loadModelSet({ kind: 'url', manifestUrl: s.url('/set/manifest.json') }, { ...fast, store, roles: ['prior'] });
      const v2 = { path: 'prior.onnx', data: randomFile(300_000) };
      s.files.set('/set/prior.onnx', v2.data);
      s.files.set('/set/manifest.json', new TextEncoder().encode(JSON.stringify(manifestJson({ prior: v2, restorer }))));
      s.log.length = 0;
      const set = await loadModelSet({ kind: 'url', manifestUrl: s.url('/set/manifest.json') }, { ...fast, store, roles: ['prior'] });
      expect(set.models[0]!.fromCache).toBe(false);
      expect(sha256Of(set.models[0]!.bytes)).toBe(sha256Of(v2.data));
      expect(s.requests('/set/prior.onnx')).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('a damaged cache entry is dropped and downloaded again', async () => {
    const storage = new MemoryCacheStorage();
    const store = new CacheStorageModelStore(storage);
    const src = { kind: 'url', manifestUrl: server.url('/set/manifest.json') } as const;
    await loadModelSet(src, { ...fast, store, roles: ['restorer'] });
    const key = [...storage.caches.values()][0]!.entries.get(`https://pgdiff-model-cache.invalid/sha256/${sha256Of(restorer.data)}`)!;
    key.body[5] = key.body[5]! ^ 1;
    server.log.length = 0;
    const warnings: string[] = [];
    const set = await loadModelSet(src, { ...fast, store, roles: ['restorer'], onWarning: (w) => warnings.push(w) });
    expect(set.models[0]!.fromCache).toBe(false);
    expect(warnings.join()).toMatch(/cached copy of restorer\.onnx is damaged/);
    expect(server.requests('/set/restorer.onnx')).toHaveLength(1);
  });

  it('quota exceeded and unavailable storage only produce warnings', async () => {
    const storage = new MemoryCacheStorage();
    storage.quotaBytes = 250_000; // the restorer (200 kB) fits, the prior (300 kB) does not
    const store = new CacheStorageModelStore(storage);
    const warnings: string[] = [];
    const src = { kind: 'url', manifestUrl: server.url('/set/manifest.json') } as const;
    const set = await loadModelSet(src, { ...fast, store, onWarning: (w) => warnings.push(w) });
    expect(set.models).toHaveLength(2);
    expect(set.warnings).toEqual(warnings);
    expect(warnings.join('\n')).toMatch(/Could not cache prior\.onnx: the browser's storage quota is full \(QuotaExceededError/);
    expect((await store.list()).filter((e) => e.kind === 'model').map((e) => e.file)).toEqual(['restorer.onnx']);

    const broken = new MemoryCacheStorage();
    broken.failOpen = true;
    const w2: string[] = [];
    const set2 = await loadModelSet(src, { ...fast, store: new CacheStorageModelStore(broken), onWarning: (w) => w2.push(w) });
    expect(sha256Of(modelFor(set2, 'prior')!.bytes)).toBe(sha256Of(prior.data));
    expect(w2.some((w) => /Could not read prior\.onnx from the cache \(SecurityError/.test(w))).toBe(true);
    expect(w2.some((w) => /Could not cache restorer\.onnx \(SecurityError/.test(w))).toBe(true);
  });

  it('without Cache Storage (Node) the default store is absent and a warning says so', async () => {
    expect((globalThis as { caches?: unknown }).caches).toBeUndefined();
    const set = await loadModelSet({ kind: 'url', manifestUrl: server.url('/set/manifest.json') }, { ...fast, roles: ['restorer'] });
    expect(set.warnings.join()).toMatch(/Cache Storage is not available here/);
  });
});

describe('device limits', () => {
  const limits = { maxBufferSize: 1 << 20, maxStorageBufferBindingSize: 30_000 };
  it('refuses a file whose largest tensor exceeds the limit, before downloading', async () => {
    const e = await rejection(
      loadModelSet({ kind: 'url', manifestUrl: server.url('/set/manifest.json') }, { ...fast, store: null, deviceLimits: limits }),
    );
    expect(e.code).toBe('too-large');
    expect(e.file).toBe('prior.onnx');
    expect(e.hint).toMatch(/smaller \(or fp16\) model set, or the WASM backend/);
    expect(e.message).toBe(
      'The prior model prior.onnx (fp32) does not fit this GPU: its largest tensor "w1" is 39.1 KiB (40000 bytes), but the GPU allows at most 29.3 KiB (30000 bytes) per buffer (maxStorageBufferBindingSize).',
    );
    expect(server.requests('/set/prior.onnx')).toHaveLength(0);
    // fp16 halves the tensor: it fits.
    const set = await loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, store: null, deviceLimits: limits, shaderF16: true, roles: ['prior'] },
    );
    expect(set.models[0]!.precision).toBe('fp16');
  });

  it('uses the file size as an upper bound when largestTensorBytes is absent, and says so', () => {
    const m = parseManifest(manifest, 'x');
    const entry = m.models[1]!;
    expect(() =>
      checkFitsDevice(entry, 'fp32', entry.files.fp32, { maxBufferSize: 100_000, maxStorageBufferBindingSize: 1 << 30 }),
    ).toThrow(
      /The restorer model restorer\.onnx \(fp32\) does not fit this GPU: the manifest does not give its largest tensor \(params\.largestTensorBytes\), so its file size 195\.3 KiB \(200000 bytes\) is used as an upper bound, but the GPU allows at most 97\.7 KiB \(100000 bytes\) per buffer \(maxBufferSize\)/,
    );
    expect(() =>
      checkFitsDevice(entry, 'fp32', entry.files.fp32, { maxBufferSize: 200_000, maxStorageBufferBindingSize: 200_000 }),
    ).not.toThrow();
  });
});

describe('cancellation', () => {
  it('an AbortSignal cancels a download in progress', async () => {
    server.stalls.set('/set/prior.onnx', { afterBytes: 60_000, times: 1 });
    const ac = new AbortController();
    let seen = 0;
    const p = loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      {
        ...fast,
        store: null,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.status === 'download' && e.loaded > 0 && seen++ === 0) ac.abort();
        },
      },
    );
    const e = await rejection(p);
    expect(e.code).toBe('cancelled');
    expect(e.message).toMatch(/Cancelled: downloading prior\.onnx/);
    expect(server.requests('/set/prior.onnx')).toHaveLength(1);
    expect(server.requests('/set/restorer.onnx')).toHaveLength(0);
  });

  it('cancels during a retry wait and before starting', async () => {
    server.failures.set('/set/prior.onnx', { status: 503, times: 10 });
    const ac = new AbortController();
    const p = loadModelSet(
      { kind: 'url', manifestUrl: server.url('/set/manifest.json') },
      { ...fast, retry: { maxRetries: 5, delaysMs: [60_000] }, store: null, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    expect((await rejection(p)).code).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(5_000);
    const e = await rejection(
      loadModelSet({ kind: 'url', manifestUrl: server.url('/set/manifest.json') }, { signal: AbortSignal.abort() }),
    );
    expect(e.code).toBe('cancelled');
  });
});

describe('picked files', () => {
  const pick = (names: string[], overrides: Record<string, Uint8Array> = {}) => {
    const all: Record<string, Uint8Array> = {
      'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)),
      'prior.onnx': prior.data,
      'prior.fp16.onnx': priorFp16.data,
      'restorer.onnx': restorer.data,
      ...overrides,
    };
    return { kind: 'files' as const, files: names.map((name) => ({ name, data: all[name]!.slice().buffer })) };
  };

  it('matches files by name and checks them', async () => {
    const set = await loadModelSet(pick(['restorer.onnx', 'manifest.json', 'prior.onnx']), { store: null });
    expect(set.models.map((m) => [m.role, m.location, m.precision])).toEqual([
      ['prior', 'prior.onnx', 'fp32'],
      ['restorer', 'restorer.onnx', 'fp32'],
    ]);
    expect(sha256Of(modelFor(set, 'prior')!.bytes)).toBe(sha256Of(prior.data));
    // shader-f16 but only the fp32 prior picked: falls back to it.
    const set16 = await loadModelSet(pick(['manifest.json', 'prior.onnx', 'restorer.onnx']), { store: null, shaderF16: true });
    expect(modelFor(set16, 'prior')!.precision).toBe('fp32');
  });

  it('says which files are missing, which are damaged, and when there is no manifest', async () => {
    const e1 = await rejection(loadModelSet(pick(['manifest.json', 'prior.onnx']), { store: null }));
    expect(e1.code).toBe('not-found');
    expect(e1.message).toBe('The manifest manifest.json needs restorer.onnx, which was not picked');
    const bad = restorer.data.slice();
    bad[0] = bad[0]! ^ 1;
    const e2 = await rejection(
      loadModelSet(pick(['manifest.json', 'prior.onnx', 'restorer.onnx'], { 'restorer.onnx': bad }), { store: null }),
    );
    expect(e2.code).toBe('integrity');
    expect(e2.message).toContain(`restorer.onnx: sha256 mismatch: expected ${sha256Of(restorer.data)}, got ${sha256Of(bad)}`);
    const e3 = await rejection(loadModelSet(pick(['prior.onnx']), { store: null }));
    expect(e3.message).toMatch(/No manifest\.json among the picked files/);
  });
});
