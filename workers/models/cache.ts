/**
 * The model cache. Files are keyed by their sha256, so a second visit can load offline and a changed
 * file (new hash) is never served stale. Manifests are kept by URL as an offline fallback only.
 * Backed by Cache Storage (exists in windows and workers of secure contexts); Node tests inject an
 * in-memory CacheStorage (tests/helpers/models/memory-cache-storage.ts).
 */

export interface CachedFileMeta {
  /** the file's name as the manifest gives it (for people) */
  file: string;
  /** the model set that stored it */
  set: string;
  setVersion?: string;
}

export interface CacheEntry extends CachedFileMeta {
  kind: 'model' | 'manifest';
  /** sha256 for model files; the manifest URL for manifests */
  key: string;
  bytes: number;
  /** ms since the epoch */
  storedAt: number;
}

/** What the loader needs from a cache. */
export interface ModelStore {
  getFile(sha256: string): Promise<Uint8Array | undefined>;
  putFile(sha256: string, bytes: Uint8Array, meta: CachedFileMeta): Promise<void>;
  getManifest(url: string): Promise<{ json: unknown; storedAt: number } | undefined>;
  putManifest(url: string, json: unknown, meta: CachedFileMeta): Promise<void>;
  deleteFile(sha256: string): Promise<boolean>;
  list(): Promise<CacheEntry[]>;
  totalBytes(): Promise<number>;
  /** clear everything, or only the entries one set stored */
  clear(set?: string): Promise<number>;
  dispose(): void;
}

/** The subset of CacheStorage / Cache this module uses (lets tests inject an in-memory one). */
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  delete(name: string): Promise<boolean>;
}
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
  keys(): Promise<readonly { url: string }[]>;
}

export const DEFAULT_CACHE_NAME = 'pgdiff-models-v1';
// Cache Storage keys must be http(s) URLs; .invalid never resolves, so nothing can collide with a real fetch.
const KEY_ORIGIN = 'https://pgdiff-model-cache.invalid';
const fileKey = (sha256: string) => `${KEY_ORIGIN}/sha256/${sha256.toLowerCase()}`;
const manifestKey = (url: string) => `${KEY_ORIGIN}/manifest?url=${encodeURIComponent(url)}`;

// Header values must be ByteStrings, so names are stored percent-encoded.
const H = {
  file: 'x-pgdiff-file',
  set: 'x-pgdiff-set',
  setVersion: 'x-pgdiff-set-version',
  bytes: 'x-pgdiff-bytes',
  at: 'x-pgdiff-stored-at',
};

function metaHeaders(meta: CachedFileMeta, bytes: number): Headers {
  const h = new Headers({
    'content-type': 'application/octet-stream',
    [H.file]: encodeURIComponent(meta.file),
    [H.set]: encodeURIComponent(meta.set),
    [H.bytes]: String(bytes),
    [H.at]: String(Date.now()),
  });
  if (meta.setVersion) h.set(H.setVersion, encodeURIComponent(meta.setVersion));
  return h;
}

function entryFrom(url: string, res: Response): CacheEntry | undefined {
  const u = new URL(url);
  const dec = (v: string | null) => (v === null ? '' : decodeURIComponent(v));
  const base = {
    file: dec(res.headers.get(H.file)),
    set: dec(res.headers.get(H.set)),
    bytes: Number(res.headers.get(H.bytes) ?? 0),
    storedAt: Number(res.headers.get(H.at) ?? 0),
  };
  const sv = res.headers.get(H.setVersion);
  const extra = sv ? { setVersion: dec(sv) } : {};
  if (u.pathname.startsWith('/sha256/')) return { kind: 'model', key: u.pathname.slice(8), ...base, ...extra };
  if (u.pathname === '/manifest') return { kind: 'manifest', key: u.searchParams.get('url') ?? '', ...base, ...extra };
  return undefined;
}

export class CacheStorageModelStore implements ModelStore {
  private cache: Promise<CacheLike> | undefined;
  constructor(
    private readonly storage: CacheStorageLike,
    readonly cacheName = DEFAULT_CACHE_NAME,
  ) {}

  private open(): Promise<CacheLike> {
    // Retry opening after a failure (e.g. storage was briefly unavailable).
    this.cache ??= this.storage.open(this.cacheName).catch((e: unknown) => {
      this.cache = undefined;
      throw e;
    });
    return this.cache;
  }

  async getFile(sha256: string): Promise<Uint8Array | undefined> {
    const res = await (await this.open()).match(fileKey(sha256));
    return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
  }

  async putFile(sha256: string, bytes: Uint8Array, meta: CachedFileMeta): Promise<void> {
    const cache = await this.open();
    await cache.put(fileKey(sha256), new Response(bytes as Uint8Array<ArrayBuffer>, { headers: metaHeaders(meta, bytes.byteLength) }));
  }

  async getManifest(url: string): Promise<{ json: unknown; storedAt: number } | undefined> {
    const res = await (await this.open()).match(manifestKey(url));
    if (!res) return undefined;
    return { json: JSON.parse(await res.text()) as unknown, storedAt: Number(res.headers.get(H.at) ?? 0) };
  }

  async putManifest(url: string, json: unknown, meta: CachedFileMeta): Promise<void> {
    const text = JSON.stringify(json);
    const headers = metaHeaders(meta, new TextEncoder().encode(text).byteLength);
    headers.set('content-type', 'application/json');
    await (await this.open()).put(manifestKey(url), new Response(text, { headers }));
  }

  async deleteFile(sha256: string): Promise<boolean> {
    return (await this.open()).delete(fileKey(sha256));
  }

  async list(): Promise<CacheEntry[]> {
    const cache = await this.open();
    const out: CacheEntry[] = [];
    for (const req of await cache.keys()) {
      const res = await cache.match(req.url);
      // Only headers are read; the body is left unread (and cancelled) so listing stays cheap.
      const e = res && entryFrom(req.url, res);
      await res?.body?.cancel().catch(() => undefined);
      if (e) out.push(e);
    }
    return out;
  }

  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((s, e) => s + e.bytes, 0);
  }

  async clear(set?: string): Promise<number> {
    if (set === undefined) {
      const n = (await this.list()).length;
      await this.storage.delete(this.cacheName);
      this.cache = undefined;
      return n;
    }
    // Files are shared by hash: a file another set also uses is removed too (it re-downloads if needed).
    const cache = await this.open();
    let n = 0;
    for (const e of await this.list()) {
      if (e.set !== set) continue;
      if (await cache.delete(e.kind === 'model' ? fileKey(e.key) : manifestKey(e.key))) n++;
    }
    return n;
  }

  dispose(): void {
    this.cache = undefined;
  }
}

/** The browser's Cache Storage store, or undefined (with the reason) where there is none. */
export function defaultModelStore(): { store?: ModelStore; warning?: string } {
  const storage = (globalThis as { caches?: CacheStorageLike }).caches;
  if (!storage)
    return {
      warning:
        'Cache Storage is not available here (it needs a secure context such as https or localhost); models will be downloaded again next time.',
    };
  return { store: new CacheStorageModelStore(storage) };
}

/** The subset of StorageManager used below (navigator.storage in windows and workers). */
export interface StorageManagerLike {
  estimate(): Promise<{ usage?: number; quota?: number }>;
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

export interface StorageStatus {
  usage: number;
  quota: number;
  /** whether the browser promised not to evict this origin's storage */
  persisted: boolean;
}

function defaultStorage(): StorageManagerLike | undefined {
  return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage;
}

/** Origin-wide usage and quota (all storage, not only models), or undefined where unknown. */
export async function storageStatus(storage = defaultStorage()): Promise<StorageStatus | undefined> {
  if (!storage) return undefined;
  try {
    const e = await storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted: (await storage.persisted?.()) ?? false };
  } catch {
    return undefined;
  }
}

/**
 * Ask the browser to keep the cached models under storage pressure (best effort: Chromium decides by
 * site engagement; persist() must be called from a window, not a worker). Returns whether it is granted.
 */
export async function requestPersistentStorage(storage = defaultStorage()): Promise<boolean> {
  try {
    return (await storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
