import { describe, expect, it } from 'vitest';
import { manifestJson, randomFile } from '../../tests/helpers/models/fixtures';
import type { CacheEntry, ModelStore } from './cache';
import { clearModelCache, groupCache, previewManifest, previewManifestFrom, readModelCache } from './catalog';

const prior = { path: 'prior.onnx', data: randomFile(1000) };
const prior16 = { path: 'prior.fp16.onnx', data: randomFile(500) };
const restorer = { path: 'sub/restorer.onnx', data: randomFile(300) };

describe('previewManifest', () => {
  it('summarises roles, sizes, licence and the test-only flag', () => {
    const p = previewManifest(manifestJson({ prior, priorFp16: prior16, restorer, name: 'fixture-set' }), 'manifest.json');
    expect(p.name).toBe('fixture-set');
    expect(p.roles).toEqual(['prior', 'restorer']);
    expect(p.bytesFp32).toBe(1300);
    expect(p.bytesFp16).toBe(800);
    expect(p.testOnly).toBe(true);
    expect(p.licence).toMatch(/random bytes/);
    expect(p.requiredFiles).toEqual(['prior.onnx', 'restorer.onnx']);
    expect(p.optionalFiles).toEqual(['prior.fp16.onnx']);
  });
  it('refuses an invalid manifest with the field path', () => {
    const bad = manifestJson({ prior });
    bad.resolution = 'big';
    expect(() => previewManifest(bad, 'manifest.json')).toThrow(/resolution/);
  });
});

describe('previewManifestFrom', () => {
  it("reads a picked file's text, or fetches a web address relative to the base", async () => {
    const json = manifestJson({ prior, name: 'from-text' });
    expect((await previewManifestFrom({ kind: 'text', text: JSON.stringify(json), name: 'manifest.json' }, 'http://x/')).name).toBe(
      'from-text',
    );
    await expect(previewManifestFrom({ kind: 'text', text: '{oops', name: 'set.json' }, 'http://x/')).rejects.toThrow(
      /set.json is not JSON/,
    );
    const asked: string[] = [];
    const fetchFn = (async (url: string) => {
      asked.push(url);
      return url.endsWith('/missing.json')
        ? new Response('no', { status: 404, statusText: 'Not Found' })
        : new Response(JSON.stringify(json));
    }) as typeof fetch;
    expect((await previewManifestFrom({ kind: 'url', manifestUrl: 'models/a/manifest.json' }, 'http://host/app/', fetchFn)).name).toBe(
      'from-text',
    );
    expect(asked).toEqual(['http://host/app/models/a/manifest.json']);
    await expect(previewManifestFrom({ kind: 'url', manifestUrl: '/missing.json' }, 'http://host/', fetchFn)).rejects.toThrow(
      /answered 404 Not Found/,
    );
  });
});

describe('the model cache per set', () => {
  it('groups cache entries per set, largest first', () => {
    const e = (set: string, bytes: number, kind: 'model' | 'manifest' = 'model', at = 1): CacheEntry => ({
      kind,
      key: `${set}-${bytes}`,
      file: 'f',
      set,
      bytes,
      storedAt: at,
    });
    const g = groupCache([e('a', 10), e('b', 500), e('a', 20, 'model', 5), e('a', 2, 'manifest')]);
    expect(g.map((x) => [x.set, x.files, x.bytes, x.storedAt])).toEqual([
      ['b', 1, 500, 1],
      ['a', 2, 32, 5],
    ]);
  });
  it('lists and clears through the store, and says why when there is none', async () => {
    const entries: CacheEntry[] = [{ kind: 'model', key: 'k', file: 'prior.onnx', set: 's', bytes: 7, storedAt: 3 }];
    const cleared: (string | undefined)[] = [];
    const store = { list: async () => entries, clear: async (set?: string) => (cleared.push(set), 1) } as unknown as ModelStore;
    const info = await readModelCache({ store });
    expect(info.available).toBe(true);
    expect(info.sets).toEqual([{ set: 's', files: 1, bytes: 7, storedAt: 3 }]);
    expect(await clearModelCache('s', { store })).toBe(1);
    expect(cleared).toEqual(['s']);
    expect(await readModelCache({ warning: 'no cache here' })).toEqual({ available: false, sets: [], warning: 'no cache here' });
    await expect(clearModelCache(undefined, { warning: 'no cache here' })).rejects.toThrow(/no cache here/);
  });
});
