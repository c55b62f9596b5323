/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { createEngineService } from './engine-service';
import { createWebRuntime } from './runtime/web';
import { installErrorTransfer } from './shared/comlink-errors';

// expose() installs the message listener synchronously, before the runtime is imported lazily,
// so the first message is never lost. The worker's name may ask for a device ("backend=wasm", "backend=webgpu":
// WebGPU even on a software adapter); otherwise 'auto' (WebGPU unless the adapter is a software renderer).
const baseUrl = new URL(import.meta.env.BASE_URL ?? '/', self.location.origin).href;
const asked = /backend=(wasm|webgpu)/.exec(self.name)?.[1] as 'wasm' | 'webgpu' | undefined;
installErrorTransfer();
Comlink.expose(createEngineService(() => createWebRuntime(asked ?? 'auto'), { baseUrl }));
