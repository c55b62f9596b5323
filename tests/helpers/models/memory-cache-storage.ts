/**
 * In-memory stand-in for the part of Cache Storage that cache.ts uses (Node has no Cache Storage).
 * Can simulate a storage quota (put rejects with a QuotaExceededError DOMException) and broken storage.
 */
import type { CacheLike, CacheStorageLike } from '../../../workers/models/cache';

interface Stored {
  body: Uint8Array;
  status: number;
  headers: [string, string][];
}

export class MemoryCache implements CacheLike {
  readonly entries = new Map<string, Stored>();
  constructor(private readonly owner: MemoryCacheStorage) {}

  async match(request: string): Promise<Response | undefined> {
    if (this.owner.failReads) throw new DOMException('storage unavailable', 'UnknownError');
    const s = this.entries.get(request);
    return s && new Response(s.body.slice() as Uint8Array<ArrayBuffer>, { status: s.status, headers: s.headers });
  }

  async put(request: string, response: Response): Promise<void> {
    const body = new Uint8Array(await response.arrayBuffer());
    const used = this.owner.usedBytes() - (this.entries.get(request)?.body.byteLength ?? 0);
    if (used + body.byteLength > this.owner.quotaBytes) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.entries.set(request, { body, status: response.status, headers: [...response.headers] });
  }

  async delete(request: string): Promise<boolean> {
    return this.entries.delete(request);
  }

  async keys(): Promise<readonly { url: string }[]> {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
}

export class MemoryCacheStorage implements CacheStorageLike {
  readonly caches = new Map<string, MemoryCache>();
  /** simulate a storage quota */
  quotaBytes = Infinity;
  /** simulate storage that cannot be opened (e.g. a private window) */
  failOpen = false;
  failReads = false;

  async open(name: string): Promise<MemoryCache> {
    if (this.failOpen) throw new DOMException('The operation is insecure.', 'SecurityError');
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new MemoryCache(this)));
    return c;
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }

  usedBytes(): number {
    let n = 0;
    for (const c of this.caches.values()) for (const e of c.entries.values()) n += e.body.byteLength;
    return n;
  }
}
