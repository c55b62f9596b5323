/**
 * Pure logic behind the Models panel (no React, no DOM): previewing a manifest before anything is
 * downloaded, matching picked files to it, and summarising the model cache per set.
 */
import type { CacheEntry } from '../../../workers/models/cache';
import type { ModelManifest, ModelRole } from '../../../workers/models/manifest-types';
import { fileBaseName, parseManifest } from '../../../workers/models/manifest';

export interface ManifestPreview {
  manifest: ModelManifest;
  name: string;
  version: string;
  description?: string;
  licence: string;
  resolution: number;
  roles: ModelRole[];
  /** bytes to download with fp32 files */
  bytesFp32: number;
  /** bytes with fp16 files where the set has them (used on GPUs with shader-f16) */
  bytesFp16: number;
  testOnly: boolean;
  /** file base names the manifest needs (fp32 and fp16) */
  files: string[];
}

export function previewManifest(json: unknown, source: string): ManifestPreview {
  const m = parseManifest(json, source);
  let bytesFp32 = 0;
  let bytesFp16 = 0;
  const files: string[] = [];
  for (const e of m.models) {
    bytesFp32 += e.files.fp32.bytes;
    bytesFp16 += (e.files.fp16 ?? e.files.fp32).bytes;
    files.push(fileBaseName(e.files.fp32.path));
    if (e.files.fp16) files.push(fileBaseName(e.files.fp16.path));
  }
  const p: ManifestPreview = {
    manifest: m,
    name: m.name,
    version: m.setVersion,
    licence: m.licence,
    resolution: m.resolution,
    roles: m.models.map((e) => e.role),
    bytesFp32,
    bytesFp16,
    testOnly: m.testOnly === true,
    files,
  };
  if (m.description) p.description = m.description;
  return p;
}

/**
 * Which picked files are the manifest and which model files are still missing. fp16 files are
 * optional (the loader falls back to fp32); an fp32 file is required.
 */
export function matchPickedFiles(
  names: string[],
  preview: ManifestPreview | undefined,
): { missingRequired: string[]; missingOptional: string[]; unused: string[] } {
  const have = new Set(names.map((n) => fileBaseName(n)));
  if (!preview) return { missingRequired: [], missingOptional: [], unused: [] };
  const required = preview.manifest.models.map((e) => fileBaseName(e.files.fp32.path));
  const optional = preview.manifest.models.flatMap((e) => (e.files.fp16 ? [fileBaseName(e.files.fp16.path)] : []));
  const needed = new Set([...required, ...optional]);
  return {
    missingRequired: required.filter((f) => !have.has(f)),
    missingOptional: optional.filter((f) => !have.has(f)),
    unused: [...have].filter((f) => !needed.has(f) && !/\.json$/i.test(f)),
  };
}

/** The manifest among picked files: manifest.json first, else the only .json file. */
export function findManifestFile<T extends { name: string }>(files: T[]): T | undefined {
  return files.find((f) => fileBaseName(f.name).toLowerCase() === 'manifest.json') ?? (files.filter((f) => /\.json$/i.test(f.name)).length === 1 ? files.find((f) => /\.json$/i.test(f.name)) : undefined);
}

export interface CachedSet {
  set: string;
  setVersion?: string;
  files: number;
  bytes: number;
  /** newest entry, ms since the epoch */
  storedAt: number;
}

/** Cache entries grouped by the set that stored them, largest first. */
export function groupCache(entries: CacheEntry[]): CachedSet[] {
  const by = new Map<string, CachedSet>();
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

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** Only http(s) manifest URLs are accepted (the CSP allows https: and the page's own origin). */
export function checkManifestUrl(text: string, base: string): { url?: string; error?: string } {
  const t = text.trim();
  if (!t) return { error: 'Paste the web address of a manifest.json.' };
  let u: URL;
  try {
    u = new URL(t, base);
  } catch {
    return { error: 'That is not a web address.' };
  }
  const sameOrigin = u.origin === new URL(base).origin;
  if (u.protocol !== 'https:' && !sameOrigin) {
    return { error: 'Only https:// addresses (or this site itself) can be used: the app’s security policy blocks plain http.' };
  }
  return { url: u.href };
}
