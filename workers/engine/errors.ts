import type { EngineErrorCode } from '../api';
import { CodedError } from '../shared/errors';

/** An engine failure; its hint comes from the one table (workers/shared/errors.ts) unless given. */
export class EngineError extends CodedError {
  declare readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, hint?: string) {
    super(code, message, hint);
    this.name = 'EngineError';
  }
}

export class CancelledError extends EngineError {
  constructor() {
    super('cancelled', 'The run was cancelled.');
    this.name = 'CancelledError';
  }
}

/** Any failure as a coded error: coded ones (engine, runtime, loader) keep their code, the rest are 'internal'. */
export function toEngineError(err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new CodedError('internal', msg);
}

export function badInput(message: string): EngineError {
  return new EngineError('bad-input', message);
}
