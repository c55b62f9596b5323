/** Typed errors of model loading. Carry a code so they survive comlink (which transfers Error poorly). */

export type ModelLoadErrorCode = 'not-found' | 'network' | 'integrity' | 'invalid-manifest' | 'too-large' | 'cancelled';

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly code: ModelLoadErrorCode,
    message: string,
    options?: { cause?: unknown; file?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = options?.file;
    this.hint = HINTS[code];
  }
  /** the file the error is about, when there is one */
  readonly file: string | undefined;
  /** what the person can do next */
  readonly hint: string;
}

const HINTS: Record<ModelLoadErrorCode, string> = {
  'not-found': 'Check the manifest URL, or pick the manifest together with all the ONNX files it lists.',
  network: 'Check the connection and try again; a model on another site must be served with CORS allowed.',
  integrity: 'The file differs from the one the manifest describes: download or convert it again.',
  'invalid-manifest': 'The manifest is damaged or not a PGDiff model-set manifest; make it with tools/make-manifest.ts.',
  'too-large': 'Use a smaller (or fp16) model set, or the WASM backend, which has no per-buffer limit.',
  cancelled: 'Loading was cancelled; start it again when ready.',
};

export function isAbortError(e: unknown): boolean {
  return (
    (e instanceof ModelLoadError && e.code === 'cancelled') ||
    (typeof e === 'object' && e !== null && 'name' in e && (e as { name: unknown }).name === 'AbortError')
  );
}

export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new ModelLoadError('cancelled', `Cancelled: ${what}`, { cause: signal.reason });
}

/** Resolve after ms, or reject with a 'cancelled' ModelLoadError when the signal fires first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ModelLoadError('cancelled', 'Cancelled while waiting to retry', { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ModelLoadError('cancelled', 'Cancelled while waiting to retry', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
