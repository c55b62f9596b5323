import { describe, expect, it } from 'vitest';
import { AppErrorException, makeError, toAppError, toEngineInfo } from './errors';

describe('toAppError', () => {
  it('keeps the engine code, message and hint of a plain EngineErrorInfo', () => {
    const e = toAppError({ code: 'gpu-out-of-memory', message: 'OOM in prior', hint: 'fewer variants' });
    expect(e).toMatchObject({ code: 'gpu-out-of-memory', message: 'OOM in prior', hint: 'fewer variants' });
    expect(e.title).toMatch(/memory/);
  });
  it('reads JSON-encoded info and Errors with a code', () => {
    expect(toAppError(new Error('failed: {"code":"device-lost","message":"lost"}')).code).toBe('device-lost');
    expect(toAppError(Object.assign(new Error('x'), { code: 'no-model' })).code).toBe('no-model');
    expect(toAppError(new AppErrorException(makeError('too-large', 'big'))).code).toBe('too-large');
  });
  it('falls back to internal, with a hint, for unknown failures', () => {
    const e = toAppError('boom');
    expect(e.code).toBe('internal');
    expect(e.hint).toBeTruthy();
    expect(toAppError(new Error('WebGPU device was lost')).code).toBe('device-lost');
  });
  it('maps UI-only codes to internal for engine-shaped slices', () => {
    expect(toEngineInfo(makeError('not-an-image')).code).toBe('internal');
    expect(toEngineInfo(makeError('no-model')).code).toBe('no-model');
  });
});
