/**
 * Errors cross comlink intact. Comlink's own 'throw' handler keeps only an Error's message, name and
 * stack, so a CodedError would arrive as a plain Error without its code and hint. This handler replaces it
 * on both sides (the worker and every page that wraps it): a CodedError arrives as a CodedError.
 */
import * as Comlink from 'comlink';
import { CodedError, isErrorCode } from './errors';

/** What travels: the thrown value, or an Error's parts (with its code and hint when it has them). */
type Wire =
  { kind: 'error'; name: string; message: string; stack?: string; code?: string; hint?: string } | { kind: 'value'; value: unknown };

/** What comlink hands the handler: the thrown value behind its (unexported) throw marker. */
interface Thrown {
  value: unknown;
}

export function toWire(value: unknown): Wire {
  if (!(value instanceof Error)) return { kind: 'value', value };
  const wire: Wire = { kind: 'error', name: value.name, message: value.message };
  if (value.stack) wire.stack = value.stack;
  if (value instanceof CodedError) {
    wire.code = value.code;
    wire.hint = value.hint;
  }
  return wire;
}

export function fromWire(wire: Wire): unknown {
  if (wire.kind === 'value') return wire.value;
  const err = isErrorCode(wire.code) ? new CodedError(wire.code, wire.message, wire.hint) : new Error(wire.message);
  err.name = wire.name;
  if (wire.stack) err.stack = wire.stack;
  return err;
}

let installed = false;

/** Replace comlink's 'throw' handler (once per realm). Call before wrap() / expose(). */
export function installErrorTransfer(): void {
  if (installed) return;
  const builtin = Comlink.transferHandlers.get('throw');
  if (!builtin) throw new Error("comlink has no 'throw' transfer handler to replace");
  const handler: Comlink.TransferHandler<Thrown, Wire> = {
    // the built-in handler recognises comlink's throw marker, which comlink does not export
    canHandle: (v): v is Thrown => builtin.canHandle(v),
    serialize: ({ value }) => [toWire(value), []],
    deserialize: (wire) => {
      throw fromWire(wire);
    },
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
  installed = true;
}
