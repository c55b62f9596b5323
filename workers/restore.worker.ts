/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { EngineService } from './engine-service';

// expose() installs the message listener synchronously, before the runtime is imported lazily,
// so the first message is never lost. The worker's name may ask for WASM ("backend=wasm").
const base = new URL(import.meta.env.BASE_URL ?? '/', self.location.origin).href;
Comlink.expose(new EngineService(base, /backend=wasm/.test(self.name) ? 'wasm' : 'webgpu'));
