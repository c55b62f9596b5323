import { describe, expect, it } from 'vitest';
import { CacheStorageModelStore, requestPersistentStorage, storageStatus } from './cache';
import { MemoryCacheStorage } from '../../tests/helpers/models/memory-cache-storage';

describe('CacheStorageModelStore', () => {
  it('stores files by sha256 with their metadata, lists, sums and clears per set', async () => {
    const storage = new MemoryCacheStorage();
    const store = new CacheStorageModelStore(storage);
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array(10).fill(7);
    await store.putFile('A'.repeat(64), a, { file: 'prior ü.onnx', set: 'set one', setVersion: '1.0' });
    await store.putFile('b'.repeat(64), b, { file: 'restorer.onnx', set: 'other' });
    await store.putManifest('https://x.example/m.json', { hello: 'wörld' }, { file: 'm.json', set: 'set one' });
    expect(await store.getFile('a'.repeat(64))).toEqual(a);
    expect(await store.getFile('c'.repeat(64))).toBeUndefined();
    expect((await store.getManifest('https://x.example/m.json'))?.json).toEqual({ hello: 'wörld' });
    const list = await store.list();
    expect(list.map(({ kind, key, file, set, bytes }) => ({ kind, key, file, set, bytes }))).toEqual([
      { kind: 'model', key: 'a'.repeat(64), file: 'prior ü.onnx', set: 'set one', bytes: 3 },
      { kind: 'model', key: 'b'.repeat(64), file: 'restorer.onnx', set: 'other', bytes: 10 },
      { kind: 'manifest', key: 'https://x.example/m.json', file: 'm.json', set: 'set one', bytes: 18 },
    ]);
    expect(list[0]!.setVersion).toBe('1.0');
    expect(list[0]!.storedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.totalBytes()).toBe(31);
    expect(await store.clear('set one')).toBe(2);
    expect((await store.list()).map((e) => e.file)).toEqual(['restorer.onnx']);
    expect(await store.deleteFile('b'.repeat(64))).toBe(true);
    expect(await store.totalBytes()).toBe(0);
    await store.putFile('d'.repeat(64), a, { file: 'x', set: 's' });
    expect(await store.clear()).toBe(1);
    expect(storage.caches.size).toBe(0);
    store.dispose();
  });

  it('reports storage status and persistence where there is a StorageManager', async () => {
    expect(await storageStatus(undefined)).toBeUndefined();
    const sm = { estimate: async () => ({ usage: 5, quota: 100 }), persisted: async () => false, persist: async () => true };
    expect(await storageStatus(sm)).toEqual({ usage: 5, quota: 100, persisted: false });
    expect(await requestPersistentStorage(sm)).toBe(true);
    expect(await requestPersistentStorage({ estimate: async () => ({}) })).toBe(false);
    expect(await storageStatus({ estimate: () => Promise.reject(new Error('denied')) })).toBeUndefined();
  });
});
