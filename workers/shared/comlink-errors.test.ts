import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../engine/errors';
import { installErrorTransfer } from './comlink-errors';
import { CodedError, ERRORS } from './errors';

/** Both ends of a real comlink channel in this realm (as the worker and the page each install the handler). */
function pair<T>(obj: T): { remote: Comlink.Remote<T>; close(): void } {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(obj, port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<T>(port2 as unknown as Comlink.Endpoint);
  return {
    remote,
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

const api = {
  async badInput(): Promise<void> {
    throw new EngineError('bad-input', 'The mask is 32x32 but the photo is 64x64.');
  },
  async custom(): Promise<void> {
    throw new CodedError('model-load-failed', 'No manifest at x', 'try y');
  },
  async plain(): Promise<void> {
    throw new Error('plain failure');
  },
  async value(): Promise<void> {
    throw { some: 'object' };
  },
};

describe('errors across comlink', () => {
  let close = () => undefined as void;
  afterEach(() => close());

  it('comlink alone drops the code and hint (what the handler is for)', async () => {
    const p = pair(api);
    close = p.close;
    const e = (await p.remote.badInput().catch((x: unknown) => x)) as Error & { code?: string };
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('The mask is 32x32 but the photo is 64x64.');
    expect(e.code).toBeUndefined();
  });

  it('with the handler a coded error arrives as a CodedError with its code, message, hint and name', async () => {
    installErrorTransfer();
    const p = pair(api);
    close = p.close;
    const e = await p.remote.badInput().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toMatchObject({
      code: 'bad-input',
      message: 'The mask is 32x32 but the photo is 64x64.',
      hint: ERRORS['bad-input'].hint,
      name: 'EngineError',
    });
    expect(await p.remote.custom().catch((x: unknown) => x)).toMatchObject({ code: 'model-load-failed', hint: 'try y' });
    const plain = await p.remote.plain().catch((x: unknown) => x);
    expect(plain).toBeInstanceOf(Error);
    expect(plain).not.toBeInstanceOf(CodedError);
    expect((plain as Error).message).toBe('plain failure');
    expect(await p.remote.value().catch((x: unknown) => x)).toEqual({ some: 'object' });
  });
});
