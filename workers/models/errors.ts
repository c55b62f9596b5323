/** Typed errors of model loading: `code` says why (the loader's own logic and tests read it). */
import { CodedError, ERRORS, type ErrorCode } from '../shared/errors';

export type ModelLoadErrorCode = 'not-found' | 'network' | 'integrity' | 'invalid-manifest' | 'too-large' | 'cancelled';

/** The app's code (workers/shared/errors.ts) for each reason a load fails. */
const APP_CODE: Record<ModelLoadErrorCode, ErrorCode> = {
  'not-found': 'model-load-failed',
  network: 'model-load-failed',
  integrity: 'invalid-model',
  'invalid-manifest': 'invalid-model',
  'too-large': 'model-too-large',
  cancelled: 'cancelled',
};

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly code: ModelLoadErrorCode,
    message: string,
    options?: { cause?: unknown; file?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = options?.file;
  }
  /** the file the error is about, when there is one */
  readonly file: string | undefined;

  /** the app's code for this failure */
  get appCode(): ErrorCode {
    return APP_CODE[this.code];
  }

  /** what the person can do next (from the one table) */
  get hint(): string {
    return ERRORS[this.appCode].hint;
  }

  /** The failure as the app's coded error, as it leaves the worker. */
  toCoded(): CodedError {
    return new CodedError(this.appCode, this.message);
  }
}

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
