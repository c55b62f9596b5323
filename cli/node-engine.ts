import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LoadedModelSetInfo, ProgressCallback, RestoreRequest, RestoreResult } from '../workers/api';
import type { RunOptions } from '../workers/engine/engine';
import { createEngineService, type EngineService } from '../workers/engine-service';
import type { FetchLike } from '../workers/models/download';
import { createNodeRuntime } from '../workers/runtime/node';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const BUNDLED_MANIFEST = path.join(REPO_ROOT, 'public/models/pgdiff-utk-latent/manifest.json');

/**
 * fetch that also reads file: URLs, so the models module loads sets and the face detector from disk in Node
 * with the same manifest, size and sha256 checks as in the browser (a missing file answers 404).
 */
export const fileFetch: FetchLike = async (input, init) => {
  if (!input.startsWith('file:')) return fetch(input, init);
  try {
    return new Response(new Uint8Array(await readFile(fileURLToPath(input))), { status: 200 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Response('not found', { status: 404, statusText: 'Not Found' });
    throw err;
  }
};

/** A model set on disk (its folder or its manifest.json) as the file: URL of its manifest. */
export async function manifestUrlOf(models: string): Promise<string> {
  const manifestPath = (await stat(models)).isDirectory() ? path.join(models, 'manifest.json') : models;
  return pathToFileURL(path.resolve(manifestPath)).href;
}

export interface NodeEngine {
  info: LoadedModelSetInfo;
  service: EngineService;
  restore(request: RestoreRequest, opts?: RunOptions | ProgressCallback): Promise<RestoreResult>;
  dispose(): Promise<void>;
}

/** The engine service on onnxruntime-node with a model set from disk (default: the bundled one). */
export async function createNodeEngine(
  opts: { models?: string; threads?: number; onProgress?: ProgressCallback } = {},
): Promise<NodeEngine> {
  const service = createEngineService(async () => createNodeRuntime(opts.threads), {
    baseUrl: pathToFileURL(path.join(REPO_ROOT, 'public') + path.sep).href,
    loader: { store: null, fetch: fileFetch },
  });
  const info = await service.loadModels(
    { kind: 'url', manifestUrl: await manifestUrlOf(opts.models ?? BUNDLED_MANIFEST) },
    opts.onProgress,
  );
  return {
    info,
    service,
    restore: (request, o) => service.restoreWith(request, typeof o === 'function' ? { onProgress: o } : (o ?? {})),
    dispose: () => service.dispose(),
  };
}
