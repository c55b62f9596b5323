import type { EngineErrorCode, EngineErrorInfo } from '../../../workers/api';

/** Errors the UI itself finds (input checks) plus everything the engine can report. */
export type AppErrorCode =
  | EngineErrorCode
  | 'not-an-image'
  | 'corrupt-image'
  | 'too-large'
  | 'no-face'
  | 'worker-crashed';

/** An error as the person sees it: what happened and what to do next. */
export interface AppError {
  code: AppErrorCode;
  title: string;
  message: string;
  hint?: string;
}

const DEFAULT_TEXT: Record<AppErrorCode, { title: string; hint: string }> = {
  'not-an-image': {
    title: 'This file is not an image',
    hint: 'Choose a photo file: JPEG, PNG or WebP (what your phone or scanner saves).',
  },
  'corrupt-image': {
    title: 'This image could not be read',
    hint: 'The file looks damaged or incomplete. Try exporting or downloading it again, or use another copy.',
  },
  'too-large': {
    title: 'This image is too large',
    hint: 'Shrink it first (for example to 8000 pixels on the longest side) or crop it around the face.',
  },
  'no-face': {
    title: 'No face found',
    hint: 'If the photo is already a close crop of one face, turn on "My photo is already a cropped face". Otherwise try a photo where the face is larger and facing the camera.',
  },
  'no-webgpu': {
    title: 'WebGPU is not available',
    hint: 'The app runs on the CPU (WebAssembly) instead: it works, only slower.',
  },
  'gpu-out-of-memory': {
    title: 'Your graphics card ran out of memory',
    hint: 'Close other tabs or apps that use the GPU, choose fewer variants, then run again.',
  },
  'device-lost': {
    title: 'The graphics device was lost',
    hint: 'This happens when the GPU driver resets or the device sleeps. Run again; the app restarts the engine for you.',
  },
  'invalid-model': {
    title: 'This model set is not valid',
    hint: 'Check that you chose a PGDiff model set (a folder with manifest.json) and that no file is missing.',
  },
  'model-load-failed': {
    title: 'The model could not be loaded',
    hint: 'Check your connection to the model address, or load the model files from disk in the Models panel.',
  },
  'bad-input': {
    title: 'The engine could not use this input',
    hint: 'Pick the face again, or reload the photo.',
  },
  cancelled: { title: 'Cancelled', hint: 'Your photo and earlier results are kept. Press Restore to run again.' },
  'no-model': {
    title: 'No model is installed',
    hint: 'Open the Models panel and load a PGDiff model set (from a web address or from files on your computer).',
  },
  internal: {
    title: 'Something went wrong inside the engine',
    hint: 'Run again. If it keeps happening, reload the page: your history is kept.',
  },
  'worker-crashed': {
    title: 'The engine stopped unexpectedly',
    hint: 'It has been restarted. Run again.',
  },
};

export function makeError(code: AppErrorCode, message?: string, hint?: string): AppError {
  const d = DEFAULT_TEXT[code];
  return { code, title: d.title, message: message ?? d.title, hint: hint ?? d.hint };
}

const ENGINE_CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'no-webgpu',
  'gpu-out-of-memory',
  'device-lost',
  'invalid-model',
  'model-load-failed',
  'bad-input',
  'cancelled',
  'no-model',
  'internal',
]);

function isEngineInfo(x: unknown): x is EngineErrorInfo {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { code?: unknown }).code === 'string' &&
    ENGINE_CODES.has((x as { code: string }).code)
  );
}

/**
 * Turn whatever a worker call rejected with into an AppError. The engine sends EngineErrorInfo, either
 * as the thrown value, as `error.info` / `error.code`, or JSON-encoded in the message.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppErrorException) return err.info;
  if (isAppError(err)) return err;
  if (isEngineInfo(err)) return makeError(err.code, err.message, err.hint);
  if (err instanceof Error || (typeof err === 'object' && err !== null)) {
    const e = err as { info?: unknown; code?: unknown; message?: unknown; hint?: unknown; name?: unknown };
    if (isEngineInfo(e.info)) return makeError(e.info.code, e.info.message, e.info.hint);
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (typeof e.code === 'string' && ENGINE_CODES.has(e.code)) {
      return makeError(e.code as EngineErrorCode, message, typeof e.hint === 'string' ? e.hint : undefined);
    }
    if (e.name === 'AbortError') return makeError('cancelled');
    const parsed = parseJsonInfo(message);
    if (parsed) return makeError(parsed.code, parsed.message, parsed.hint);
    const guessed = guessCode(message);
    return makeError(guessed, message);
  }
  return makeError('internal', String(err));
}

function parseJsonInfo(message: string): EngineErrorInfo | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const obj: unknown = JSON.parse(message.slice(start));
    return isEngineInfo(obj) ? obj : undefined;
  } catch {
    return undefined;
  }
}

/** Last resort for plain errors (e.g. from onnxruntime) that carry no code. */
function guessCode(message: string): AppErrorCode {
  const m = message.toLowerCase();
  if (m.includes('out of memory') || m.includes('oom')) return 'gpu-out-of-memory';
  if (m.includes('device lost') || m.includes('device was lost')) return 'device-lost';
  if (m.includes('cancel') || m.includes('abort')) return 'cancelled';
  if (m.includes('no model')) return 'no-model';
  return 'internal';
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

/** Thrown by the UI's own checks so callers can tell them from engine errors. */
export class AppErrorException extends Error {
  constructor(readonly info: AppError) {
    super(info.message);
    this.name = 'AppErrorException';
  }
}

/** An AppError as EngineErrorInfo (UI-only codes become 'internal'), for slices that hold engine errors. */
export function toEngineInfo(err: AppError): EngineErrorInfo {
  const code = ENGINE_CODES.has(err.code) ? (err.code as EngineErrorCode) : 'internal';
  const info: EngineErrorInfo = { code, message: err.message };
  if (err.hint) info.hint = err.hint;
  return info;
}
