/**
 * Load a model set (manifest + each role's ONNX bytes) from the bundled set, a URL or picked files.
 * Everything platform-specific (fetch, digest, cache) is injectable, so the same code runs in a
 * worker, on the main thread and in Node (tests, CLI).
 */
import type { LoadedModelSetInfo, ModelSource, ProgressCallback } from '../api';
import type { ComponentManifest, ModelEntry, ModelFile, ModelManifest, ModelRole } from './manifest-types';
import { defaultModelStore, type ModelStore } from './cache';
import { DEFAULT_RETRY, downloadFile, sha256Hex, type DigestFn, type FetchLike, type RetryOptions } from './download';
import { ModelLoadError, abortableSleep, isAbortError, throwIfCancelled } from './errors';
import {
  ManifestError,
  fileBaseName,
  largestTensorOf,
  parseComponentManifest,
  parseManifest,
  pickFile,
  resolveFileUrl,
  type Precision,
} from './manifest';

export { ModelLoadError } from './errors';
export type { ModelLoadErrorCode } from './errors';

export const DEFAULT_BUNDLED_SET = 'pgdiff-utk-latent';

/** From the WebGPU adapter (GPUSupportedLimits). */
export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface LoadOptions {
  onProgress?: ProgressCallback;
  /** non-fatal problems (cache failures, offline fallbacks) */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** pick fp16 files where the manifest has them */
  shaderF16?: boolean;
  /** refuse files whose largest tensor exceeds these (WebGPU); omit for WASM/CPU */
  deviceLimits?: DeviceLimits;
  /** load only these roles (default: all in the manifest) */
  roles?: ModelRole[];
  /** where public/ is served (bundled sets live at <base>models/<name>/manifest.json); default: the page origin + BASE_URL */
  bundledBaseUrl?: string;
  fetch?: FetchLike;
  digest?: DigestFn;
  /** the cache; null disables caching; default: Cache Storage where it exists */
  store?: ModelStore | null;
  /** re-hash files read from the cache (default true; a damaged entry is dropped and downloaded again) */
  verifyCached?: boolean;
  retry?: RetryOptions;
  stallTimeoutMs?: number;
  progressIntervalMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface LoadedModel {
  role: ModelRole;
  entry: ModelEntry;
  precision: Precision;
  file: ModelFile;
  /** absolute URL, or the picked file's name */
  location: string;
  bytes: Uint8Array;
  fromCache: boolean;
}

/** A model set whose files are in memory: what the engine loads. */
export interface ModelSetBytes {
  manifest: ModelManifest;
  files: Partial<Record<ModelRole, Uint8Array>>;
}

/** What the app shows about a set (LoadedModelSetInfo less the backend, which the runtime adds). */
export type ModelSetInfo = Omit<LoadedModelSetInfo, 'backend'>;

/** A loaded set: its bytes by role (ModelSetBytes), the info the app shows, and how each file was got. */
export interface LoadedModelSet extends ModelSetBytes {
  info: ModelSetInfo;
  /** the manifest's URL (undefined for picked files) */
  manifestUrl?: string;
  models: LoadedModel[];
  warnings: string[];
  /** bytes of the loaded files */
  totalBytes: number;
}

export function modelFor(set: LoadedModelSet, role: ModelRole): LoadedModel | undefined {
  return set.models.find((m) => m.role === role);
}

/** The one place a set's files and info are made from what was loaded. */
function finishSet(manifest: ModelManifest, models: LoadedModel[], warnings: string[], manifestUrl?: string): LoadedModelSet {
  const files: Partial<Record<ModelRole, Uint8Array>> = {};
  for (const m of models) files[m.role] = m.bytes;
  const totalBytes = models.reduce((s, m) => s + m.bytes.byteLength, 0);
  const info: ModelSetInfo = {
    name: manifest.name,
    version: manifest.setVersion,
    resolution: manifest.resolution,
    roles: models.map((x) => x.role),
    licence: manifest.licence,
    totalBytes,
    template: manifest.alignment.template.map(([x, y]) => [x, y] as [number, number]),
    ...(warnings.length ? { warnings } : {}),
    ...(manifest.testOnly ? { testOnly: true } : {}),
    ...(manifest.latent ? { latent: { channels: manifest.latent.channels, size: manifest.resolution / manifest.latent.downscale } } : {}),
    ...(manifest.defaults ? { defaults: manifest.defaults } : {}),
  };
  return { manifest, files, info, models, warnings, totalBytes, ...(manifestUrl !== undefined ? { manifestUrl } : {}) };
}

/**
 * Refuse a file whose largest tensor cannot be bound on this GPU. Uses params.largestTensorBytes
 * (written by tools/make-manifest.ts); without it the whole file size stands in as an upper bound.
 */
export function checkFitsDevice(entry: ModelEntry, precision: Precision, file: ModelFile, limits: DeviceLimits): void {
  const limit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const which = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const known = largestTensorOf(entry, precision);
  const size = known?.bytes ?? file.bytes;
  if (size <= limit) return;
  const name = fileBaseName(file.path);
  const what = known
    ? `its largest tensor${known.name ? ` "${known.name}"` : ''} is ${fmtBytes(size)}`
    : `the manifest does not give its largest tensor (params.largestTensorBytes), so its file size ${fmtBytes(size)} is used as an upper bound`;
  throw new ModelLoadError(
    'too-large',
    `The ${entry.role} model ${name} (${precision}) does not fit this GPU: ${what}, but the GPU allows at most ${fmtBytes(limit)} per buffer (${which}).`,
    { file: name },
  );
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} bytes)`;
}

interface Ctx {
  opts: LoadOptions;
  fetch: FetchLike;
  digest: DigestFn;
  store: ModelStore | undefined;
  warnings: string[];
  warn: (m: string) => void;
}

function makeCtx(opts: LoadOptions): Ctx {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  let store: ModelStore | undefined;
  if (opts.store === undefined) {
    const d = defaultModelStore();
    store = d.store;
    if (d.warning) warn(d.warning);
  } else store = opts.store ?? undefined;
  // bound: calling the global fetch as a method of another object throws "Illegal invocation"
  const f = opts.fetch ?? (globalThis.fetch ? (((input, init) => globalThis.fetch(input, init)) as FetchLike) : undefined);
  if (!f) throw new ModelLoadError('network', 'fetch is not available here');
  return { opts, fetch: f, digest: opts.digest ?? sha256Hex, store, warnings, warn };
}

const describeError = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function cacheWarning(action: string, e: unknown): string {
  const quota = typeof e === 'object' && e !== null && (e as { name?: string }).name === 'QuotaExceededError';
  return quota
    ? `Could not ${action}: the browser's storage quota is full (${describeError(e)}). Loading continues; the model will be downloaded again next time. Clearing cached models frees space.`
    : `Could not ${action} (${describeError(e)}). Loading continues without the cache.`;
}

function bundledManifestUrl(name: string, base: string | undefined): string {
  // a set's folder under models/, or a shared one under models/common/ (the face detector)
  if (!/^(common\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..'))
    throw new ModelLoadError('not-found', `"${name}" is not a valid bundled model-set name`);
  let root = base;
  if (root === undefined) {
    const loc = (globalThis as { location?: { origin: string } }).location;
    if (!loc) throw new ModelLoadError('not-found', 'Bundled models need LoadOptions.bundledBaseUrl outside a browser');
    const env = (import.meta as { env?: { BASE_URL?: string } }).env;
    root = new URL(env?.BASE_URL ?? '/', loc.origin).href;
  }
  return new URL(`models/${name}/manifest.json`, root.endsWith('/') ? root : `${root}/`).href;
}

/** A manifest parser whose ManifestError becomes the loader's 'invalid-manifest'. */
function orThrow<M>(parse: (json: unknown, source: string) => M): (json: unknown, source: string) => M {
  return (json, source) => {
    try {
      return parse(json, source);
    } catch (e) {
      if (e instanceof ManifestError) throw new ModelLoadError('invalid-manifest', e.message, { cause: e });
      throw e;
    }
  };
}
const parseOrThrow = orThrow<ModelManifest>(parseManifest);
const parseComponentsOrThrow = orThrow<ComponentManifest>(parseComponentManifest);

/** Fetch and parse the manifest; when the network fails, fall back to the cached copy with a warning. */
async function fetchManifest<M extends Listing>(ctx: Ctx, url: string, parse: (json: unknown, source: string) => M): Promise<M> {
  const { signal } = ctx.opts;
  const retry = ctx.opts.retry ?? DEFAULT_RETRY;
  const sleep = ctx.opts.sleep ?? abortableSleep;
  let text: string | undefined;
  let netError: unknown;
  // With a cached copy to fall back on, one attempt is enough: offline visits should not wait out retries.
  const cached = ctx.store ? await ctx.store.getManifest(url).catch(() => undefined) : undefined;
  const maxRetries = cached ? 0 : retry.maxRetries;
  const timeoutMs = ctx.opts.stallTimeoutMs ?? 30_000;
  for (let attempt = 0; ; attempt++) {
    throwIfCancelled(signal, 'loading the manifest');
    const attemptCtl = new AbortController();
    const onAbort = () => attemptCtl.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => attemptCtl.abort(new Error('timeout')), timeoutMs);
    try {
      // Revalidate with the server (cheap with an ETag) so a new version of the set is noticed.
      const res = await ctx.fetch(url, { cache: 'no-cache', signal: attemptCtl.signal });
      if (res.status === 404 || res.status === 410)
        throw new ModelLoadError('not-found', `No model-set manifest at ${url} (HTTP ${res.status})`);
      if (!res.ok) {
        const msg = `The server answered HTTP ${res.status} for the manifest ${url}`;
        if (res.status >= 500 || res.status === 429 || res.status === 408) throw new TypeError(msg);
        throw new ModelLoadError('network', msg);
      }
      text = await res.text();
      break;
    } catch (e) {
      if (signal?.aborted) throw new ModelLoadError('cancelled', 'Cancelled: loading the manifest', { cause: e });
      if (e instanceof ModelLoadError) throw e;
      netError = attemptCtl.signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : e;
      if (isAbortError(e) && !attemptCtl.signal.aborted)
        throw new ModelLoadError('cancelled', 'Cancelled: loading the manifest', { cause: e });
      if (attempt >= maxRetries) break;
      await sleep(retry.delaysMs[Math.min(attempt, retry.delaysMs.length - 1)] ?? 1000, signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
  if (text === undefined) {
    if (cached) {
      ctx.warn(`Could not reach ${url} (${describeError(netError)}); using the copy cached on ${new Date(cached.storedAt).toISOString()}.`);
      return parse(cached.json, `${url} (cached)`);
    }
    throw new ModelLoadError(
      'network',
      `Could not download the manifest ${url}: ${describeError(netError)} (if it is on another site, that server may not allow cross-origin requests: CORS)`,
      { cause: netError },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // servers that answer every path with their index page: there is no manifest at this address
    if (text.trimStart().startsWith('<'))
      throw new ModelLoadError('not-found', `No model-set manifest at ${url} (the server answered with an HTML page)`, { cause: e });
    throw new ModelLoadError('invalid-manifest', `Invalid model manifest ${url}: not JSON (${describeError(e)})`, { cause: e });
  }
  const manifest = parse(json, url);
  if (ctx.store)
    await ctx.store
      .putManifest(url, json, { file: fileBaseName(url), set: manifest.name, setVersion: manifest.setVersion })
      .catch((e: unknown) => ctx.warn(cacheWarning(`cache the manifest of ${manifest.name}`, e)));
  return manifest;
}

/** What downloading needs of a manifest: a set's or a components manifest. */
type Listing = Pick<ModelManifest, 'name' | 'setVersion' | 'models'>;

interface Plan {
  entry: ModelEntry;
  precision: Precision;
  file: ModelFile;
}

function plan(manifest: Listing, opts: LoadOptions): Plan[] {
  const roles = opts.roles;
  if (roles) {
    const missing = roles.filter((r) => !manifest.models.some((m) => m.role === r));
    if (missing.length)
      throw new ModelLoadError(
        'invalid-manifest',
        `The model set ${manifest.name} has no ${missing.map((r) => `"${r}"`).join(', ')} model`,
      );
  }
  const out = manifest.models
    .filter((e) => !roles || roles.includes(e.role))
    .map((entry) => ({ entry, ...pickFile(entry, { shaderF16: opts.shaderF16 ?? false }) }));
  // Check every file against the GPU before downloading any of them.
  if (opts.deviceLimits) for (const p of out) checkFitsDevice(p.entry, p.precision, p.file, opts.deviceLimits);
  return out;
}

async function fromCache(ctx: Ctx, file: ModelFile, name: string): Promise<Uint8Array | undefined> {
  if (!ctx.store) return undefined;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await ctx.store.getFile(file.sha256);
  } catch (e) {
    ctx.warn(cacheWarning(`read ${name} from the cache`, e));
    return undefined;
  }
  if (!bytes) return undefined;
  if (ctx.opts.verifyCached !== false) {
    const got = await ctx.digest(bytes);
    if (got !== file.sha256) {
      ctx.warn(`The cached copy of ${name} is damaged (sha256 ${got}); downloading it again.`);
      await ctx.store.deleteFile(file.sha256).catch(() => undefined);
      return undefined;
    }
  }
  return bytes;
}

/** Each planned file from the cache (re-hashed) or downloaded (sha256-checked, then cached). */
async function loadFromUrl(ctx: Ctx, manifest: Listing, manifestUrl: string): Promise<LoadedModel[]> {
  const { opts } = ctx;
  const models: LoadedModel[] = [];
  for (const p of plan(manifest, opts)) {
    throwIfCancelled(opts.signal, `loading ${manifest.name}`);
    const name = fileBaseName(p.file.path);
    const url = resolveFileUrl(p.file.path, manifestUrl);
    let bytes = await fromCache(ctx, p.file, name);
    throwIfCancelled(opts.signal, `loading ${manifest.name}`);
    const fromCacheHit = bytes !== undefined;
    if (bytes) opts.onProgress?.({ status: 'download', file: name, loaded: p.file.bytes, total: p.file.bytes });
    else {
      const download = (bypassHttpCache: boolean) =>
        downloadFile(
          { url, file: name, bytes: p.file.bytes, sha256: p.file.sha256 },
          {
            fetch: ctx.fetch,
            digest: ctx.digest,
            signal: opts.signal,
            onProgress: (loaded, total) => opts.onProgress?.({ status: 'download', file: name, loaded, total }),
            progressIntervalMs: opts.progressIntervalMs,
            retry: opts.retry,
            stallTimeoutMs: opts.stallTimeoutMs,
            sleep: opts.sleep,
            bypassHttpCache,
          },
        );
      try {
        bytes = (await download(false)).bytes;
      } catch (e) {
        if (!(e instanceof ModelLoadError && e.code === 'integrity')) throw e;
        // The browser's HTTP cache may hold an older file at the same URL: fetch once more past it.
        ctx.warn(`${e.message}; downloading ${name} again, bypassing the browser's HTTP cache.`);
        bytes = (await download(true)).bytes;
      }
      if (ctx.store)
        await ctx.store
          .putFile(p.file.sha256, bytes, { file: name, set: manifest.name, setVersion: manifest.setVersion })
          .catch((e: unknown) => ctx.warn(cacheWarning(`cache ${name}`, e)));
    }
    models.push({
      role: p.entry.role,
      entry: p.entry,
      precision: p.precision,
      file: p.file,
      location: url,
      bytes,
      fromCache: fromCacheHit,
    });
  }
  return models;
}

async function loadFromFiles(ctx: Ctx, files: { name: string; data: ArrayBuffer }[]): Promise<LoadedModelSet> {
  const { opts } = ctx;
  const byName = new Map(files.map((f) => [fileBaseName(f.name), f]));
  const manifests = files.filter((f) => /manifest[^/\\]*\.json$/i.test(f.name));
  const jsons = manifests.length ? manifests : files.filter((f) => /\.json$/i.test(f.name));
  if (jsons.length !== 1)
    throw new ModelLoadError(
      jsons.length ? 'invalid-manifest' : 'not-found',
      jsons.length
        ? `Pick one manifest, not ${jsons.length} (${jsons.map((f) => f.name).join(', ')})`
        : 'No manifest.json among the picked files: pick the manifest together with the ONNX files',
    );
  const mf = jsons[0]!;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(mf.data));
  } catch (e) {
    throw new ModelLoadError('invalid-manifest', `Invalid model manifest ${mf.name}: not JSON (${describeError(e)})`, { cause: e });
  }
  const manifest = parseOrThrow(json, mf.name);
  const plans = plan(manifest, opts);
  // Prefer the chosen precision; accept the other one when only that was picked.
  const chosen = plans.map((p) => {
    const want = fileBaseName(p.file.path);
    if (byName.has(want)) return p;
    const other = p.precision === 'fp16' ? p.entry.files.fp32 : p.entry.files.fp16;
    if (other && byName.has(fileBaseName(other.path))) {
      const alt = { ...p, precision: (p.precision === 'fp16' ? 'fp32' : 'fp16') as Precision, file: other };
      if (opts.deviceLimits) checkFitsDevice(alt.entry, alt.precision, alt.file, opts.deviceLimits);
      return alt;
    }
    return undefined;
  });
  const missing = plans.filter((_, i) => !chosen[i]).map((p) => fileBaseName(p.file.path));
  if (missing.length)
    throw new ModelLoadError(
      'not-found',
      `The manifest ${mf.name} needs ${missing.join(', ')}, which ${missing.length > 1 ? 'were' : 'was'} not picked`,
      { file: missing[0] },
    );
  const models: LoadedModel[] = [];
  for (const p of chosen as Plan[]) {
    throwIfCancelled(opts.signal, `loading ${manifest.name}`);
    const name = fileBaseName(p.file.path);
    const bytes = new Uint8Array(byName.get(name)!.data);
    if (bytes.byteLength !== p.file.bytes)
      throw new ModelLoadError(
        'integrity',
        `${name}: the picked file has ${bytes.byteLength} bytes but the manifest says ${p.file.bytes}`,
        { file: name },
      );
    const got = await ctx.digest(bytes);
    if (got !== p.file.sha256)
      throw new ModelLoadError(
        'integrity',
        `${name}: sha256 mismatch: expected ${p.file.sha256}, got ${got} (the file is damaged or not the one the manifest describes)`,
        { file: name },
      );
    opts.onProgress?.({ status: 'download', file: name, loaded: p.file.bytes, total: p.file.bytes });
    models.push({ role: p.entry.role, entry: p.entry, precision: p.precision, file: p.file, location: name, bytes, fromCache: false });
  }
  return finishSet(manifest, models, ctx.warnings);
}

/** Load a model set. Throws ModelLoadError; cache problems only produce warnings. */
export async function loadModelSet(source: ModelSource, opts: LoadOptions = {}): Promise<LoadedModelSet> {
  const ctx = makeCtx(opts);
  throwIfCancelled(opts.signal, 'loading models');
  switch (source.kind) {
    case 'bundled': {
      const url = bundledManifestUrl(source.name ?? DEFAULT_BUNDLED_SET, opts.bundledBaseUrl);
      return fromUrl(ctx, await fetchManifest(ctx, url, parseOrThrow), url);
    }
    case 'url': {
      let url: string;
      try {
        url = new URL(source.manifestUrl, (globalThis as { location?: { href: string } }).location?.href).href;
      } catch {
        throw new ModelLoadError('not-found', `"${source.manifestUrl}" is not a valid URL`);
      }
      return fromUrl(ctx, await fetchManifest(ctx, url, parseOrThrow), url);
    }
    case 'manifest-object':
      return fromUrl(ctx, parseOrThrow(source.manifest, source.baseUrl), source.baseUrl);
    case 'files':
      return loadFromFiles(ctx, source.files);
  }
}

async function fromUrl(ctx: Ctx, manifest: ModelManifest, url: string): Promise<LoadedModelSet> {
  return finishSet(manifest, await loadFromUrl(ctx, manifest, url), ctx.warnings, url);
}

/** The bundled components (face detector and mesh): public/models/common/face-detector/manifest.json. */
export const FACE_COMPONENTS = 'common/face-detector';

export interface LoadedComponents {
  manifest: ComponentManifest;
  files: Partial<Record<ModelRole, Uint8Array>>;
  warnings: string[];
}

/**
 * Load a components manifest (the face detector and mesh) with the same sha256 checks, cache and offline
 * fallback as a model set. `name` is its folder under <base>models/ (default FACE_COMPONENTS).
 */
export async function loadComponents(name: string = FACE_COMPONENTS, opts: LoadOptions = {}): Promise<LoadedComponents> {
  const ctx = makeCtx(opts);
  throwIfCancelled(opts.signal, 'loading models');
  const url = bundledManifestUrl(name, opts.bundledBaseUrl);
  const manifest = await fetchManifest(ctx, url, parseComponentsOrThrow);
  const files: Partial<Record<ModelRole, Uint8Array>> = {};
  for (const m of await loadFromUrl(ctx, manifest, url)) files[m.role] = m.bytes;
  return { manifest, files, warnings: ctx.warnings };
}
