// A bare page that drives the real worker, for engine e2e tests and the WebGPU benchmark.
import * as Comlink from 'comlink';
import type { EngineApi } from '../../workers/api';

const backend = new URL(location.href).searchParams.get('backend') ?? 'webgpu';
const worker = new Worker(new URL('../../workers/restore.worker.ts', import.meta.url), { type: 'module', name: `backend=${backend}` });
const api = Comlink.wrap<EngineApi>(worker);

declare global {
  interface Window {
    __engine: { api: Comlink.Remote<EngineApi>; proxy: typeof Comlink.proxy };
  }
}
window.__engine = { api, proxy: Comlink.proxy };
(document.getElementById('status') as HTMLElement).textContent = 'ready';

// Direct (main-thread) access to the engine for the benchmark: phase timing needs RunOptions.
import { Engine } from '../../workers/engine/engine';
import { createWebRuntime } from '../../workers/runtime/web';
import { loadModelSet } from '../../workers/models/loader';
import type { ModelRole } from '../../workers/models/manifest-types';
import type { RestoreRequest } from '../../workers/api';

async function direct(manifestUrl: string, prefer: 'webgpu' | 'wasm') {
  const rt = await createWebRuntime(prefer);
  const engine = new Engine(rt.backend);
  const set = await loadModelSet({ kind: 'url', manifestUrl }, { store: null });
  const files: Partial<Record<ModelRole, Uint8Array>> = {};
  for (const m of set.models) files[m.role] = m.bytes;
  await engine.load({ manifest: set.manifest, files });
  return {
    caps: rt.capabilities,
    run: (req: RestoreRequest, profile: boolean, maxCalls?: number) =>
      engine.restore(req, { profile, ...(maxCalls ? { maxCalls } : {}) }),
    live: () => engine.liveTensors,
    dispose: () => engine.dispose(),
  };
}
(window as unknown as { __direct: typeof direct }).__direct = direct;
