/**
 * Resumable download of one file of known size, with progress, retries with backoff, HTTP Range
 * resume (restart when the server ignores Range), a stall timeout, cancellation and a sha256 check.
 * Needs only fetch and crypto.subtle, both present in workers and in Node 20.
 */
import { ModelLoadError, abortableSleep, isAbortError, throwIfCancelled } from './errors';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
export type DigestFn = (bytes: Uint8Array) => Promise<string>;

export interface RetryOptions {
  /** consecutive failed attempts (without any new bytes) before giving up */
  maxRetries: number;
  /** wait before retry i (the last value repeats) */
  delaysMs: number[];
}
export const DEFAULT_RETRY: RetryOptions = { maxRetries: 4, delaysMs: [500, 2000, 5000, 10000] };

export interface DownloadOptions {
  fetch: FetchLike;
  digest: DigestFn;
  signal?: AbortSignal;
  /** called with bytes received so far; never decreases (a restart stays silent until it passes the old mark) */
  onProgress?: (loaded: number, total: number) => void;
  /** minimum ms between progress calls (the final call always happens) */
  progressIntervalMs?: number;
  retry?: RetryOptions;
  /** abort an attempt that receives nothing for this long, then retry */
  stallTimeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** fetch with cache: 'reload' (skip the browser's HTTP cache, e.g. after a stale copy failed its hash) */
  bypassHttpCache?: boolean;
}

export interface DownloadTarget {
  url: string;
  /** name for messages and progress events */
  file: string;
  bytes: number;
  sha256: string;
}

export interface DownloadStats {
  attempts: number;
  resumed: number;
  restarted: number;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

class RetryableError extends Error {}

function httpError(status: number, statusText: string, url: string, file: string): ModelLoadError | RetryableError {
  if (status === 404 || status === 410)
    return new ModelLoadError('not-found', `${file} was not found at ${url} (HTTP ${status})`, { file });
  const msg = `${file}: the server answered HTTP ${status}${statusText ? ` ${statusText}` : ''} for ${url}`;
  if (status === 408 || status === 425 || status === 429 || status >= 500) return new RetryableError(msg);
  return new ModelLoadError('network', msg, { file });
}

/** Content-Range: bytes start-end/total */
function parseContentRange(v: string | null): { start: number; total?: number } | undefined {
  const m = v && /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return undefined;
  return m[3] === '*' ? { start: Number(m[1]) } : { start: Number(m[1]), total: Number(m[3]) };
}

/** Download target.url into a buffer of target.bytes and check its sha256. */
export async function downloadFile(target: DownloadTarget, opts: DownloadOptions): Promise<{ bytes: Uint8Array; stats: DownloadStats }> {
  const { file, url, bytes: total } = target;
  const retry = opts.retry ?? DEFAULT_RETRY;
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? (() => Date.now());
  const interval = opts.progressIntervalMs ?? 100;
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  const signal = opts.signal;
  const buf = new Uint8Array(total);
  const stats: DownloadStats = { attempts: 0, resumed: 0, restarted: 0 };

  let loaded = 0;
  let reported = -1;
  let lastReportAt = -Infinity;
  const report = (force: boolean) => {
    if (!opts.onProgress || loaded <= reported) return;
    const t = now();
    if (!force && t - lastReportAt < interval) return;
    reported = loaded;
    lastReportAt = t;
    opts.onProgress(loaded, total);
  };

  let validator: string | undefined; // ETag or Last-Modified, for If-Range
  let failures = 0;
  let lastError: unknown;
  for (;;) {
    throwIfCancelled(signal, `downloading ${file}`);
    const startedAt = loaded;
    stats.attempts++;
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        attempt.abort(new Error('stalled'));
      }, stallMs);
    };
    try {
      const headers: Record<string, string> = {};
      if (loaded > 0) {
        headers.Range = `bytes=${loaded}-`;
        if (validator) headers['If-Range'] = validator;
      }
      arm();
      const res = await opts.fetch(url, { headers, signal: attempt.signal, ...(opts.bypassHttpCache ? { cache: 'reload' as const } : {}) });
      if (res.status === 416 && loaded > 0) {
        // The range no longer fits what the server has: start over.
        await res.body?.cancel().catch(() => undefined);
        loaded = 0;
        validator = undefined;
        stats.restarted++;
        throw new RetryableError(`${file}: the server refused to resume (HTTP 416)`);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw httpError(res.status, res.statusText, url, file);
      }
      const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'));
        if (cr?.total !== undefined && cr.total !== total)
          throw new ModelLoadError('integrity', `${file}: the server has ${cr.total} bytes but the manifest says ${total}`, { file });
        if (!cr || cr.start !== loaded) {
          // A range we did not ask for: do not splice it in; restart from scratch.
          await res.body?.cancel().catch(() => undefined);
          loaded = 0;
          validator = undefined;
          stats.restarted++;
          throw new RetryableError(`${file}: the server answered an unexpected range (${res.headers.get('content-range')})`);
        }
        if (loaded > 0) stats.resumed++;
      } else {
        if (loaded > 0) {
          // The server ignored Range (or the file changed, with If-Range): the body is the whole file.
          loaded = 0;
          stats.restarted++;
        }
        const len = res.headers.get('content-length');
        if (!encoded && len !== null && Number(len) !== total)
          throw new ModelLoadError('integrity', `${file}: the server has ${len} bytes but the manifest says ${total}`, { file });
      }
      // If-Range needs a strong validator: a strong ETag, else Last-Modified.
      const etag = res.headers.get('etag');
      validator = (etag && !etag.startsWith('W/') ? etag : res.headers.get('last-modified')) ?? validator;
      if (!res.body) throw new RetryableError(`${file}: empty response body`);
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          arm();
          if (loaded + value.byteLength > total)
            throw new ModelLoadError('integrity', `${file}: the server sent more than the ${total} bytes the manifest says`, { file });
          buf.set(value, loaded);
          loaded += value.byteLength;
          report(false);
        }
      } finally {
        reader.releaseLock();
      }
      if (loaded < total) throw new RetryableError(`${file}: the connection closed after ${loaded} of ${total} bytes`);
      clearTimeout(timer);
      break;
    } catch (e) {
      clearTimeout(timer);
      if (signal?.aborted) throw new ModelLoadError('cancelled', `Cancelled: downloading ${file}`, { cause: signal.reason, file });
      if (e instanceof ModelLoadError) throw e;
      // Network errors (TypeError from fetch, a dropped stream, a stall) and retryable statuses.
      lastError = stalled ? new RetryableError(`${file}: no data for ${stallMs} ms`) : e;
      if (isAbortError(e) && !stalled) throw new ModelLoadError('cancelled', `Cancelled: downloading ${file}`, { cause: e, file });
      failures = loaded > startedAt ? 1 : failures + 1;
      if (failures > retry.maxRetries) {
        const why = lastError instanceof Error ? lastError.message : String(lastError);
        const cors =
          e instanceof TypeError && loaded === 0 ? ' (if the server is another site, it may not allow cross-origin requests: CORS)' : '';
        throw new ModelLoadError('network', `${file}: download failed after ${stats.attempts} attempts: ${why}${cors}`, {
          cause: lastError,
          file,
        });
      }
      const delay = retry.delaysMs[Math.min(failures - 1, retry.delaysMs.length - 1)] ?? 1000;
      await sleep(delay, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  report(true);

  throwIfCancelled(signal, `checking ${file}`);
  const got = await opts.digest(buf);
  if (got !== target.sha256.toLowerCase())
    throw new ModelLoadError(
      'integrity',
      `${file}: sha256 mismatch: expected ${target.sha256.toLowerCase()}, got ${got} (the file is damaged or not the one the manifest describes)`,
      { file },
    );
  return { bytes: buf, stats };
}
