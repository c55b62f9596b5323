import type * as OrtWebModule from 'onnxruntime-web/webgpu';
import type { Capabilities } from '../api';
import { createOrtBackend, type Backend, type OrtLike, type Runtime } from './backend';

/**
 * onnxruntime-web in the worker: WebGPU when the adapter works, else WASM (same numbers, slower).
 * The WebGPU build ("onnxruntime-web/webgpu") carries the WASM CPU provider too, so one import
 * serves both.
 */
type OrtWeb = typeof OrtWebModule;

let ortPromise: Promise<OrtWeb> | null = null;
export function loadOrt(): Promise<OrtWeb> {
  ortPromise ??= import('onnxruntime-web/webgpu');
  return ortPromise;
}

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<{
    features: { has(f: string): boolean };
    limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
    info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
    isFallbackAdapter?: boolean;
  } | null>;
}

/** Which device to run on: 'auto' = WebGPU unless the adapter is a software renderer (then WASM). */
export type DevicePreference = 'auto' | 'webgpu' | 'wasm';

/** A software WebGPU adapter (SwiftShader, llvmpipe, WARP...): measured 40-100x slower than WASM here. */
export function isSoftwareAdapter(
  info: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string; device?: string } | undefined,
  fallbackFlag?: boolean,
): boolean {
  if (fallbackFlag || info?.isFallbackAdapter) return true;
  const text = [info?.vendor, info?.architecture, info?.description, info?.device].filter(Boolean).join(' ');
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render|warp/i.test(text);
}

export type WebRuntime = Runtime;

function threadCount(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  // multithreaded WASM needs SharedArrayBuffer, i.e. a cross-origin-isolated page
  return g.crossOriginIsolated ? Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1)) : 1;
}

export async function probeWebGpu(): Promise<{
  ok: boolean;
  reason?: string;
  shaderF16: boolean;
  adapter?: string;
  software?: boolean;
  limits?: Runtime['limits'];
}> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return { ok: false, shaderF16: false, reason: 'This browser does not offer WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter)
      return { ok: false, shaderF16: false, reason: 'WebGPU is present but no GPU adapter is available (blocklisted or disabled).' };
    const info = adapter.info;
    return {
      ok: true,
      software: isSoftwareAdapter(info, adapter.isFallbackAdapter),
      shaderF16: adapter.features.has('shader-f16'),
      adapter: [info?.vendor, info?.architecture, info?.description || info?.device].filter(Boolean).join(' ') || 'unknown adapter',
      limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
    };
  } catch (err) {
    return { ok: false, shaderF16: false, reason: `Requesting a WebGPU adapter failed: ${(err as Error).message}` };
  }
}

export async function createWebRuntime(prefer: DevicePreference = 'auto'): Promise<WebRuntime> {
  const ort = await loadOrt();
  const threads = threadCount();
  ort.env.wasm.numThreads = threads;
  const probe = prefer !== 'wasm' ? await probeWebGpu() : { ok: false, shaderF16: false, reason: 'WASM was requested.' };
  // a software adapter is only used when asked for: the CPU path is much faster than a GPU emulated on it
  const skipSoftware = probe.ok && probe.software === true && prefer === 'auto';
  if (skipSoftware) {
    probe.reason = `The WebGPU adapter (${probe.adapter ?? 'unknown'}) is a software renderer, about 100x slower than running on the CPU here, so the CPU (WebAssembly) is used. Choose "Use WebGPU anyway" to override.`;
  }
  const useGpu = probe.ok && !skipSoftware;
  const ortBackend = createOrtBackend(ort as unknown as OrtLike, {
    kind: useGpu ? 'webgpu' : 'wasm',
    executionProviders: useGpu ? ['webgpu', 'wasm'] : ['wasm'],
    cpuExecutionProviders: ['wasm'],
    gpuOutputs: useGpu,
  });
  const lost = useGpu ? watchDeviceLost(ortBackend, () => ort.env.webgpu.device) : undefined;
  const backend = lost?.backend ?? ortBackend;
  const capabilities: Capabilities = {
    webgpu: probe.ok,
    shaderF16: probe.shaderF16,
    backend: backend.kind,
    threads,
    ...(probe.adapter ? { adapter: probe.adapter } : {}),
    ...(probe.software ? { softwareAdapter: true } : {}),
    devicePreference: prefer,
    ...(probe.limits ? { maxBufferSize: probe.limits.maxBufferSize } : {}),
    ...(!useGpu && probe.reason ? { fallbackReason: probe.reason } : {}),
  };
  return {
    backend,
    capabilities,
    onDeviceLost: (cb) => lost?.listeners.push(cb),
    ...(probe.limits ? { limits: probe.limits } : {}),
  };
}

/**
 * Report a lost GPU device. onnxruntime creates its GPUDevice with the first WebGPU session (reading
 * `ort.env.webgpu.device` earlier would make a device of its own), so the watch starts after the first GPU
 * session is created. onnxruntime-web 1.30 gives the device itself there, its typings a promise: both are read.
 */
export function watchDeviceLost(backend: Backend, device: () => unknown): { backend: Backend; listeners: (() => void)[] } {
  const listeners: (() => void)[] = [];
  let watching = false;
  const watch = () => {
    if (watching) return;
    watching = true;
    // a GPUDevice, or (as onnxruntime-common documents it) a promise of one
    void Promise.resolve()
      .then(device)
      .then((d) => (d as { lost?: Promise<unknown> } | undefined)?.lost)
      .then((info) => {
        if (info !== undefined) for (const cb of listeners.splice(0)) cb();
      })
      .catch(() => undefined);
  };
  const wrapped: Backend = {
    ...backend,
    async createSession(model, label, options) {
      const session = await backend.createSession(model, label, options);
      if (options?.device !== 'cpu') watch();
      return session;
    },
  };
  return { backend: wrapped, listeners };
}
