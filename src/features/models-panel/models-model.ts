/**
 * Pure logic behind the Models panel (no React, no DOM): matching picked files to a manifest's preview, and
 * formatting. The preview itself and the cache listing come from the worker (EngineApi.previewManifest, modelCache).
 */
import type { CachedSetInfo, ManifestPreview } from '../../../workers/api';

export type { ManifestPreview };
export type CachedSet = CachedSetInfo;

/** A picked file's name without any folder part. */
function baseName(name: string): string {
  return name.split(/[\\/]/).pop() || name;
}

/**
 * Which picked files are the manifest and which model files are still missing. fp16 files are
 * optional (the loader falls back to fp32); an fp32 file is required.
 */
export function matchPickedFiles(
  names: string[],
  preview: ManifestPreview | undefined,
): { missingRequired: string[]; missingOptional: string[]; unused: string[] } {
  const have = new Set(names.map((n) => baseName(n)));
  if (!preview) return { missingRequired: [], missingOptional: [], unused: [] };
  const required = preview.requiredFiles;
  const optional = preview.optionalFiles;
  const needed = new Set([...required, ...optional]);
  return {
    missingRequired: required.filter((f) => !have.has(f)),
    missingOptional: optional.filter((f) => !have.has(f)),
    unused: [...have].filter((f) => !needed.has(f) && !/\.json$/i.test(f)),
  };
}

/** The manifest among picked files: manifest.json first, else the only .json file. */
export function findManifestFile<T extends { name: string }>(files: T[]): T | undefined {
  return (
    files.find((f) => baseName(f.name).toLowerCase() === 'manifest.json') ??
    (files.filter((f) => /\.json$/i.test(f.name)).length === 1 ? files.find((f) => /\.json$/i.test(f.name)) : undefined)
  );
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
