/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { EngineService } from './engine-service';

// expose() installs the message listener synchronously, before the runtime is imported lazily,
// so the first message is never lost.
const base = new URL(import.meta.env.BASE_URL ?? '/', self.location.origin).href;
const params = new URL(self.location.href).searchParams;
Comlink.expose(new EngineService(base, params.get('backend') === 'wasm' ? 'wasm' : 'webgpu'));
