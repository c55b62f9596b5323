import type { EngineErrorCode, EngineErrorInfo } from '../../../workers/api';
import { CodedError, ERRORS, isErrorCode, type ErrorCode } from '../../../workers/shared/errors';

/** Every code the app shows; the one table of titles and hints lives in workers/shared/errors.ts. */
export type AppErrorCode = ErrorCode;

/** An error as the person sees it: what happened and what to do next. */
export interface AppError {
  code: AppErrorCode;
  title: string;
  message: string;
  hint?: string;
}

export function makeError(code: AppErrorCode, message?: string, hint?: string): AppError {
  const d = ERRORS[code];
  return { code, title: d.title, message: message ?? d.title, hint: hint ?? d.hint };
}

/**
 * Turn whatever a call rejected with into an AppError. One shape is read: an error (or object) with a known
 * `code`, a `message` and maybe a `hint`, which is what CodedError, AppErrorException and an AppError are (worker
 * errors arrive as CodedError, see workers/shared/comlink-errors.ts). Anything else is 'internal', with its text
 * as the message: no code is guessed from the text.
 */
export function toAppError(err: unknown): AppError {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; hint?: unknown };
    if (isErrorCode(e.code) && typeof e.message === 'string')
      return makeError(e.code, e.message, typeof e.hint === 'string' ? e.hint : undefined);
  }
  return makeError('internal', err instanceof Error ? err.message : String(err));
}

export function isAppError(x: unknown): x is AppError {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as AppError).code === 'string' &&
    typeof (x as AppError).title === 'string' &&
    typeof (x as AppError).message === 'string'
  );
}

/** Thrown by the UI's own checks: a CodedError that also carries the AppError it was made from. */
export class AppErrorException extends CodedError {
  constructor(readonly info: AppError) {
    super(info.code, info.message, info.hint);
    this.name = 'AppErrorException';
  }
}

/** An AppError as EngineErrorInfo (UI-only codes become 'internal'), for slices that hold engine errors. */
const UI_CODES: ReadonlySet<AppErrorCode> = new Set<AppErrorCode>([
  'not-an-image',
  'corrupt-image',
  'too-large',
  'no-face',
  'worker-crashed',
]);

export function toEngineInfo(err: AppError): EngineErrorInfo {
  const code = UI_CODES.has(err.code) ? 'internal' : (err.code as EngineErrorCode);
  const info: EngineErrorInfo = { code, message: err.message };
  if (err.hint) info.hint = err.hint;
  return info;
}
