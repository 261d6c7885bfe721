// Errors across a thread boundary. Structured clone keeps an Error's message but not its class or
// its fields (a WeightError's `tensor`, a FormatError's `format`, `offset` and `layer`), so a
// worker sends them as plain data and the other side rebuilds the same class with the same fields.

import * as errors from './errors.js';

/** An error as plain, cloneable data: its class name, message, stack and own primitive fields. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly fields: Readonly<Record<string, string | number | boolean | undefined>>;
}

// Every class in errors.ts, by name; and the built-in ones a bug could throw.
const CLASSES: ReadonlyMap<string, new (...args: never[]) => Error> = new Map<string, new (...args: never[]) => Error>([
  ...Object.values(errors)
    .filter((c): c is typeof errors.SqueezeNetError => typeof c === 'function' && (c === errors.SqueezeNetError || c.prototype instanceof errors.SqueezeNetError))
    .map((c) => [c.name, c] as const),
  ...[Error, TypeError, RangeError, SyntaxError, ReferenceError].map((c) => [c.name, c] as const),
]);

/** Any thrown value as a {@link WireError}. */
export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, string | number | boolean | undefined> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'name' || k === 'message' || k === 'stack') continue;
    if (v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  // a class's `name` is its own field, except on built-in errors, where it is inherited
  return { name: e.name, message: e.message, stack: e.stack, fields };
}

/**
 * The error a {@link WireError} describes: the same class (any in src/errors.ts, or a built-in
 * one; SqueezeNetError for a name it does not know), message, fields and stack, without running
 * the class's constructor (which would prefix the message again).
 */
export function fromWire(w: WireError | undefined): Error {
  if (w === undefined) return new errors.SqueezeNetError('a worker thread failed without saying why');
  const Class = CLASSES.get(w.name) ?? errors.SqueezeNetError;
  const e = Object.create(Class.prototype) as Error;
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  if (w.stack !== undefined) Object.defineProperty(e, 'stack', { value: w.stack, writable: true, configurable: true });
  // this library's classes hold `name` as their own field; built-in ones inherit it
  if (Class.prototype instanceof errors.SqueezeNetError || Class === errors.SqueezeNetError || e.name !== w.name) {
    Object.assign(e, { name: w.name });
  }
  Object.assign(e, w.fields);
  return e;
}
