import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedModelSetInfo, ProgressCallback, RestoreRequest, RestoreResult } from '../workers/api';
import { Engine, type ModelSetBytes, type RunOptions } from '../workers/engine/engine';
import { loadModelSet } from '../workers/models/loader';
import type { ModelRole } from '../workers/models/manifest-types';
import { createNodeBackend } from '../workers/runtime/node';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const BUNDLED_MANIFEST = path.join(REPO_ROOT, 'public/models/pgdiff-utk/manifest.json');

/** Read a model set from disk (a folder or its manifest.json), checking sizes and sha256. */
export async function readModelSet(models: string, onProgress?: ProgressCallback): Promise<ModelSetBytes> {
  const manifestPath = (await stat(models)).isDirectory() ? path.join(models, 'manifest.json') : models;
  const dir = path.dirname(manifestPath);
  const manifestJson = JSON.parse(await readFile(manifestPath, 'utf8')) as { models?: { files?: Record<string, { path?: string }> }[] };
  // the manifest may point into sibling folders (../common/...): hand the loader exactly those files
  const wanted = new Set<string>();
  for (const m of manifestJson.models ?? []) for (const f of Object.values(m.files ?? {})) if (f?.path) wanted.add(f.path);
  const files: { name: string; data: ArrayBuffer }[] = [
    { name: 'manifest.json', data: toArrayBuffer(await readFile(manifestPath)) },
  ];
  const present = new Set(await readdir(dir));
  for (const p of wanted) {
    if (/^[a-z]+:/i.test(p)) continue;
    const full = path.resolve(dir, p);
    if (!present.has(p) && !(await exists(full))) continue;
    files.push({ name: path.basename(p), data: toArrayBuffer(await readFile(full)) });
  }
  const set = await loadModelSet({ kind: 'files', files }, { ...(onProgress ? { onProgress } : {}), store: null });
  const out: Partial<Record<ModelRole, Uint8Array>> = {};
  for (const m of set.models) out[m.role] = m.bytes;
  return { manifest: set.manifest, files: out };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export interface NodeEngine {
  info: LoadedModelSetInfo;
  engine: Engine;
  restore(request: RestoreRequest, opts?: RunOptions | ProgressCallback): Promise<RestoreResult>;
  dispose(): Promise<void>;
}

/** The engine on onnxruntime-node with a model set from disk (default: the bundled one). */
export async function createNodeEngine(opts: { models?: string; threads?: number } = {}): Promise<NodeEngine> {
  const engine = new Engine(createNodeBackend(opts.threads));
  const set = await readModelSet(opts.models ?? BUNDLED_MANIFEST);
  const info = await engine.load(set);
  return {
    info,
    engine,
    restore: (request, o) => engine.restore(request, typeof o === 'function' ? { onProgress: o } : (o ?? {})),
    dispose: () => engine.dispose(),
  };
}
