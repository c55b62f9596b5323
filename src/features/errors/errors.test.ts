import { describe, expect, it } from 'vitest';
import { CodedError, ERRORS } from '../../../workers/shared/errors';
import { AppErrorException, makeError, toAppError, toEngineInfo } from './errors';

describe('toAppError', () => {
  it('keeps the code, message and hint of a coded error or its plain info', () => {
    const e = toAppError({ code: 'gpu-out-of-memory', message: 'OOM in prior', hint: 'fewer variants' });
    expect(e).toMatchObject({ code: 'gpu-out-of-memory', message: 'OOM in prior', hint: 'fewer variants' });
    expect(e.title).toMatch(/memory/);
    const c = toAppError(new CodedError('device-lost', 'lost in the prior'));
    expect(c).toEqual({
      code: 'device-lost',
      title: ERRORS['device-lost'].title,
      message: 'lost in the prior',
      hint: ERRORS['device-lost'].hint,
    });
    expect(toAppError(new AppErrorException(makeError('too-large', 'big')))).toMatchObject({ code: 'too-large', message: 'big' });
  });
  it('never guesses a code from the message text', () => {
    expect(toAppError(new Error('WebGPU device was lost')).code).toBe('internal');
    expect(toAppError(new Error('failed: {"code":"device-lost","message":"lost"}')).code).toBe('internal');
    expect(toAppError(Object.assign(new Error('x'), { code: 'ENOENT' })).code).toBe('internal');
  });
  it('falls back to internal, with the text and a hint, for unknown failures', () => {
    const e = toAppError('boom');
    expect(e).toMatchObject({ code: 'internal', message: 'boom' });
    expect(e.hint).toBe(ERRORS.internal.hint);
  });
  it('maps UI-only codes to internal for engine-shaped slices', () => {
    expect(toEngineInfo(makeError('not-an-image')).code).toBe('internal');
    expect(toEngineInfo(makeError('no-model')).code).toBe('no-model');
  });
});
