import type { EngineErrorCode, EngineErrorInfo } from '../api';
import { BackendError } from '../runtime/backend';

const hints: Partial<Record<EngineErrorCode, string>> = {
  'gpu-out-of-memory': 'Close other GPU-heavy tabs, use fewer steps or variants, or switch to a smaller model set.',
  'device-lost': 'The GPU reset. Your photo and settings are kept: run again (the engine restarts its GPU sessions).',
  'invalid-model': 'The model file is damaged or not a model of this kind. Reload the model set or pick other files.',
  'bad-input': 'Check the photo, the mask and the settings named in the message.',
  'no-model': 'Load a model set that has the model this task needs (Models panel).',
  'no-webgpu': 'This browser has no WebGPU: the engine runs on the CPU (WASM), which is slower.',
};

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly hint: string | undefined = hints[code],
  ) {
    super(message);
    this.name = 'EngineError';
  }

  toInfo(): EngineErrorInfo {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export class CancelledError extends EngineError {
  constructor() {
    super('cancelled', 'The run was cancelled.', undefined);
    this.name = 'CancelledError';
  }
}

/** Any failure as the serialisable info the UI shows. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (err instanceof BackendError) return new EngineError(err.code, err.message);
  const msg = err instanceof Error ? err.message : String(err);
  return new EngineError('internal', msg, 'This is a bug in the app; please report it with the message.');
}

export function badInput(message: string): EngineError {
  return new EngineError('bad-input', message);
}
