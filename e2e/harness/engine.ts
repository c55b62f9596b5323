// A bare page that drives the real worker, for engine e2e tests and the WebGPU benchmark.
import * as Comlink from 'comlink';
import type { EngineApi } from '../../workers/api';
import { installErrorTransfer } from '../../workers/shared/comlink-errors';

// errors from the worker arrive as CodedError with their code (the worker installs the same handler)
installErrorTransfer();

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

// Direct (main-thread) access to the engine service for the benchmark and goldens: they need RunOptions.
import { createEngineService } from '../../workers/engine-service';
import { createWebRuntime } from '../../workers/runtime/web';
import type { ModelSource, RestoreRequest } from '../../workers/api';

/** The same service the worker runs, on this page's thread, with a model set loaded (no cache: always fresh bytes). */
async function directService(source: ModelSource, prefer: 'webgpu' | 'wasm') {
  const service = createEngineService(() => createWebRuntime(prefer), {
    baseUrl: new URL('/', location.href).href,
    loader: { store: null },
  });
  const caps = await service.capabilities();
  await service.loadModels(source);
  return { service, caps };
}

async function direct(manifestUrl: string, prefer: 'webgpu' | 'wasm') {
  const { service, caps } = await directService({ kind: 'url', manifestUrl }, prefer);
  return {
    caps,
    run: (req: RestoreRequest, profile: boolean, maxCalls?: number) =>
      service.restoreWith(req, { profile, ...(maxCalls ? { maxCalls } : {}) }),
    live: () => service.liveTensors,
    dispose: () => service.dispose(),
  };
}
(window as unknown as { __direct: typeof direct }).__direct = direct;

// Golden cases in the page (WebGPU or WASM): the first calls of a tests/goldens case.
import { goldenRequest } from '../../tests/engine/golden-request';
import type { GoldenConfig } from '../../tests/helpers/goldens';
import { recordedNoise } from '../../workers/engine/rng';
import type { ModelManifest } from '../../workers/models/manifest-types';

async function golden(name: string, prefer: 'webgpu' | 'wasm', maxCalls: number, latent = false) {
  const base = latent ? '/tests/goldens-latent/' : '/tests/goldens/';
  const f32 = async (p: string) => new Float32Array(await (await fetch(base + p)).arrayBuffer());
  const config = (await (await fetch(`${base}${name}/config.json`)).json()) as GoldenConfig;
  const inputs = {
    y: await f32(config.inputs.y),
    mask: config.inputs.mask ? await f32(config.inputs.mask) : null,
    ref: config.inputs.ref ? await f32(config.inputs.ref) : null,
  };
  const { request, schedule, variance } = goldenRequest({ config, inputs });
  const manifestUrl = new URL(`/tests/fixtures/models/${latent ? 'tiny-latent' : 'tiny'}/manifest.json`, location.href).href;
  const manifest = (await (await fetch(manifestUrl)).json()) as ModelManifest;
  manifest.diffusion = { ...manifest.diffusion, schedule, variance };
  const { service, caps } = await directService({ kind: 'manifest-object', manifest, baseUrl: manifestUrl }, prefer);
  const steps = await f32(`${name}/steps.bin`);
  const n = (config.latent_shape ?? config.shape).reduce((a, b) => a * b, 1);
  const diffs: number[] = [];
  const xs: number[][] = [];
  const res = await service.restoreWith(request, {
    noise: recordedNoise(await f32('noise.bin')),
    maxCalls,
    onStepDump: (d) => {
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, Math.abs((d.x[i] as number) - (steps[d.call * n + i] as number)));
      diffs.push(m);
      xs.push(Array.from(d.x.slice(0, 64)));
    },
  });
  const live = service.liveTensors;
  await service.dispose();
  return { backend: caps.backend, diffs, xs, live, stats: res.stats };
}
(window as unknown as { __golden: typeof golden }).__golden = golden;

import { benchRequest } from '../../bench/request';

// Benchmark entry: phase times (with GPU fences) for a few sampler calls, and GPU buffer bytes
// (tracked by bench/run.ts wrapping GPUDevice.createBuffer before the page loads).
async function bench(manifestUrl: string, size: number, task: 'blind' | 'reference', calls: number, warmup: number) {
  const mem = () => (window as unknown as { __gpuMem?: () => { bytes: number; peak: number; buffers: number } }).__gpuMem?.() ?? null;
  const before = mem();
  const d = await direct(manifestUrl, 'webgpu');
  const afterLoad = mem();
  const req = benchRequest(size, task);
  const t0 = performance.now();
  if (warmup > 0) await d.run(req, true, warmup);
  const warmMs = performance.now() - t0;
  const res = await d.run(req, true, calls);
  const afterRun = mem();
  const live = d.live();
  await d.dispose();
  const afterDispose = mem();
  return { caps: d.caps, warmMs, stats: res.stats, live, gpu: { before, afterLoad, afterRun, afterDispose } };
}
(window as unknown as { __bench: typeof bench }).__bench = bench;

import { tinyEncoder, tinyEncoderEntry } from '../../tests/engine/tiny-encoder';
import { sha256Hex } from '../../workers/models/download';

// Blended latents (inpainting with a latent set that has an encoder): the tiny latent set ships no encoder, so the
// page adds the unit tests' stand-in and loads the set as picked files. Returns the last latent of each seed's run.
async function blend(prefer: 'webgpu' | 'wasm', req: RestoreRequest, seeds: number[]) {
  const dir = new URL('/tests/fixtures/models/tiny-latent/', location.href);
  const manifest = (await (await fetch(new URL('manifest.json', dir))).json()) as ModelManifest;
  manifest.diffusion = { ...manifest.diffusion, variance: 'fixed-large' };
  const files: { name: string; data: ArrayBuffer }[] = [];
  for (const m of manifest.models)
    files.push({ name: m.files.fp32.path.split('/').pop()!, data: await (await fetch(new URL(m.files.fp32.path, dir))).arrayBuffer() });
  const encoder = tinyEncoder();
  manifest.models.push(tinyEncoderEntry(encoder.byteLength, await sha256Hex(encoder)));
  files.push(
    { name: 'encoder.onnx', data: encoder.slice().buffer },
    { name: 'manifest.json', data: new TextEncoder().encode(JSON.stringify(manifest)).buffer },
  );
  const { service, caps } = await directService({ kind: 'files', files }, prefer);
  const last: number[][] = [];
  for (const seed of seeds) {
    let x: number[] = [];
    await service.restoreWith({ ...req, sampler: { ...req.sampler, seed } }, { onStepDump: (d) => (x = Array.from(d.x)) });
    last.push(x);
  }
  const live = service.liveTensors;
  await service.dispose();
  return { backend: caps.backend, last, live };
}
(window as unknown as { __blend: typeof blend }).__blend = blend;
