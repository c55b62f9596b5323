/**
 * What the Models panel asks the worker about model sets without loading one: a manifest's summary before anything
 * is downloaded, and the model cache per set. Runs where the cache and the manifest parser live (the worker).
 */
import type { CachedSetInfo, ManifestPreview, ManifestPreviewSource, ModelCacheInfo } from '../api';
import { defaultModelStore, storageStatus, type CacheEntry, type ModelStore } from './cache';
import { fileBaseName, parseManifest } from './manifest';

/** Summarises a manifest (validated: throws with the field path when it is not a model-set manifest). */
export function previewManifest(json: unknown, source: string): ManifestPreview {
  const m = parseManifest(json, source);
  let bytesFp32 = 0;
  let bytesFp16 = 0;
  const requiredFiles: string[] = [];
  const optionalFiles: string[] = [];
  for (const e of m.models) {
    bytesFp32 += e.files.fp32.bytes;
    bytesFp16 += (e.files.fp16 ?? e.files.fp32).bytes;
    requiredFiles.push(fileBaseName(e.files.fp32.path));
    if (e.files.fp16) optionalFiles.push(fileBaseName(e.files.fp16.path));
  }
  return {
    name: m.name,
    version: m.setVersion,
    ...(m.description ? { description: m.description } : {}),
    licence: m.licence,
    resolution: m.resolution,
    roles: m.models.map((e) => e.role),
    bytesFp32,
    bytesFp16,
    testOnly: m.testOnly === true,
    requiredFiles,
    optionalFiles,
  };
}

/** The manifest at a web address or in a picked file's text, summarised. */
export async function previewManifestFrom(
  source: ManifestPreviewSource,
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
): Promise<ManifestPreview> {
  if (source.kind === 'text') {
    let json: unknown;
    try {
      json = JSON.parse(source.text);
    } catch (e) {
      throw new Error(`${source.name} is not JSON: ${(e as Error).message}`, { cause: e });
    }
    return previewManifest(json, source.name);
  }
  const url = new URL(source.manifestUrl, baseUrl).href;
  const res = await fetchFn(url, { credentials: 'omit' });
  if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText}`);
  return previewManifest(await res.json(), url);
}

/** Cache entries grouped by the set that stored them, largest first. */
export function groupCache(entries: CacheEntry[]): CachedSetInfo[] {
  const by = new Map<string, CachedSetInfo>();
  for (const e of entries) {
    const key = e.set || '(unknown set)';
    const g = by.get(key) ?? { set: key, files: 0, bytes: 0, storedAt: 0 };
    if (e.kind === 'model') g.files++;
    g.bytes += e.bytes;
    g.storedAt = Math.max(g.storedAt, e.storedAt);
    if (e.setVersion && !g.setVersion) g.setVersion = e.setVersion;
    by.set(key, g);
  }
  return [...by.values()].sort((a, b) => b.bytes - a.bytes);
}

/** The model cache per set, with the origin's storage use (Cache Storage of this context). */
export async function readModelCache(found: { store?: ModelStore; warning?: string } = defaultModelStore()): Promise<ModelCacheInfo> {
  if (!found.store) return { available: false, sets: [], ...(found.warning ? { warning: found.warning } : {}) };
  const sets = groupCache(await found.store.list());
  const storage = await storageStatus();
  return { available: true, sets, ...(storage ? { storage } : {}) };
}

/** Removes one set's cached files, or every cached file; returns how many. */
export async function clearModelCache(
  set?: string,
  found: { store?: ModelStore; warning?: string } = defaultModelStore(),
): Promise<number> {
  if (!found.store) throw new Error(found.warning ?? 'Cache Storage is not available here.');
  return found.store.clear(set);
}
