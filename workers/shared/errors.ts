/**
 * The one table of error codes: what each means to a person (title) and what they can do next (hint).
 * The worker throws CodedError (or a subclass); comlink-errors.ts carries it across the worker boundary
 * intact; the UI (src/features/errors) turns it into what it shows. Nothing here guesses a code from a
 * message: a failure either carries its code or is 'internal'.
 */
import type { EngineErrorCode } from '../api';

/** Every code: the engine's (workers/api.ts) and the ones only the UI's own checks produce. */
export type ErrorCode = EngineErrorCode | 'not-an-image' | 'corrupt-image' | 'too-large' | 'no-face' | 'worker-crashed';

export const ERRORS: Readonly<Record<ErrorCode, { readonly title: string; readonly hint: string }>> = {
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
    hint: 'Close other tabs or apps that use the GPU, use fewer steps or variants or a smaller model set, then run again.',
  },
  'device-lost': {
    title: 'The graphics device was lost',
    hint: 'The GPU driver reset or the device slept. Your photo and settings are kept: run again (the engine restarts its GPU sessions).',
  },
  'invalid-model': {
    title: 'This model set is not valid',
    hint: 'Check that you chose a PGDiff model set (its manifest.json with every ONNX file it lists, from the same set); download or convert it again if a file is damaged.',
  },
  'model-load-failed': {
    title: 'The model could not be loaded',
    hint: 'Check the model address and your connection (a model on another site must be served with CORS allowed), or load the model files from disk in the Models panel.',
  },
  'model-too-large': {
    title: 'This model set does not fit your GPU',
    hint: 'Use a smaller (or fp16) model set, or the WASM backend, which has no per-buffer limit.',
  },
  'bad-input': {
    title: 'The engine could not use this input',
    hint: 'Check the photo, the mask and the settings named in the message; pick the face again or reload the photo.',
  },
  cancelled: { title: 'Cancelled', hint: 'Your photo and earlier results are kept. Press Restore to run again.' },
  'no-model': {
    title: 'No model is installed',
    hint: 'Open the Models panel and load a PGDiff model set (from a web address or from files on your computer).',
  },
  internal: {
    title: 'Something went wrong inside the engine',
    hint: 'Run again. If it keeps happening, reload the page (your history is kept) and report the message.',
  },
  'worker-crashed': {
    title: 'The engine stopped unexpectedly',
    hint: 'It has been restarted. Run again.',
  },
};

/** A failure with its code: the one shape every layer throws and the UI reads. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.hasOwn(ERRORS, x);
}

export class CodedError extends Error {
  readonly hint: string;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    hint?: string,
  ) {
    super(message ?? ERRORS[code].title);
    this.name = 'CodedError';
    this.hint = hint ?? ERRORS[code].hint;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}
