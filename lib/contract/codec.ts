/**
 * The one boundary for values that leave this thread or process: errors go
 * through `serializeError`/`deserializeError` (keeping `name`, `message`,
 * `stack`, `cause` and own data fields such as `code`), and arguments and
 * results are checked by `findUncloneable` before they are sent, so that a
 * value structured clone would reject, or silently strip of its class, fails
 * with a clear error instead. Values bound for another process travel
 * through `toWire`/`fromWire`: as themselves where JSON keeps them exactly,
 * and as V8's serialization otherwise, so that a queue worker receives what a
 * worker thread would (Maps, Dates, BigInts, typed arrays), not JSON's subset,
 * and the common case costs no serializer.
 */
import { isDeepStrictEqual } from "node:util";
import { isProxy } from "node:util/types";
import { deserialize, serialize } from "node:v8";
import * as contractErrors from "./contract-errors.js";
import * as errors from "./errors.js";

/** The key of a wire value carried as V8's serialization. */
export const V8_WIRE = "$asyncflow.v8";
const V8 = V8_WIRE;

/**
 * `value` (structured-clone data) made JSON-ready: itself when `JSON.parse(JSON.stringify(value))`
 * gives it back exactly, else a tagged V8 serialization.
 */
export function toWire(value: unknown): unknown {
  return jsonExact(value, 0, null) ? value : { [V8]: serialize(value).toString("base64") };
}

/** The value `toWire` was given, from what JSON carried. */
export function fromWire(wire: unknown): unknown {
  if (typeof wire === "object" && wire !== null && V8 in wire) return deserialize(Buffer.from((wire as Record<string, string>)[V8]!, "base64"));
  return wire;
}

// JSON loses undefined, -0, NaN, Infinity, holes, class instances and
// prototypes, symbol keys, an array's properties besides its elements, and
// sharing (an object reached twice arrives as two copies): all of these, and
// deep values and cycles, are left to V8, which keeps them.
const SHORT_ARRAY = 64;

function jsonExact(x: unknown, depth: number, seen: Set<object> | null): boolean {
  switch (typeof x) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(x) && !Object.is(x, -0);
    case "object":
      break;
    default:
      return false;
  }
  if (x === null) return true;
  if (depth > 32 || seen?.has(x) === true || Object.getOwnPropertySymbols(x).length > 0) return false;
  seen?.add(x);
  if (Array.isArray(x)) {
    if (Object.getPrototypeOf(x) !== Array.prototype) return false;
    for (let i = 0; i < x.length; i++) {
      if (!(i in x)) return false;
      const v: unknown = x[i]; // read once: a getter may answer differently the second time
      if (!jsonExact(v, depth + 1, (seen ??= below(x, v)))) return false;
    }
    // Named properties make it differ from a plain copy of its elements. Deep equality lists an array's
    // non-index keys natively, at a fixed cost (~0.2 us) that Object.keys undercuts on short arrays but
    // passes on long ones (a string per index: about 5x as slow at 1M).
    return x.length <= SHORT_ARRAY ? Object.keys(x).length === x.length : isDeepStrictEqual(x, Array.prototype.slice.call(x));
  }
  if (Object.getPrototypeOf(x) !== Object.prototype || V8 in x) return false;
  for (const key in x) {
    const v = (x as Record<string, unknown>)[key];
    if (key === "__proto__" || !jsonExact(v, depth + 1, (seen ??= below(x, v)))) return false;
  }
  return true;
}

/** An error as plain data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly cause?: SerializedError | { readonly value: unknown };
  /** Own enumerable fields (`code`, `errno`, `exitCode`...) that clone. */
  readonly fields?: Record<string, unknown>;
  /** What was thrown when it was not an Error, and clones: a failure (deserializeFailure) is that very value, as in the engine's process. */
  readonly thrown?: { readonly value: unknown };
}

const MAX_CAUSE_DEPTH = 16;

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    const message = `non-error thrown: ${errors.safeString(error)}`;
    return findUncloneable(error) === null ? { name: "Error", message, thrown: { value: error } } : { name: "Error", message, fields: { thrown: errors.safeString(error) } };
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === "cause" || key === "name" || key === "message" || key === "stack") continue;
    fields[key] = cloneOrString((error as unknown as Record<string, unknown>)[key]);
  }
  let cause: SerializedError["cause"];
  if ("cause" in error && error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    cause = error.cause instanceof Error ? serializeError(error.cause, depth + 1) : { value: cloneOrString(error.cause) };
  }
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(cause === undefined ? {} : { cause }),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// asyncflow's own errors come back as their class (their fields travel as data),
// so that `instanceof ExecutableError` holds for a task that failed in a worker.
// Every error class errors.ts and contract-errors.ts export, by name: a new one needs no entry here.
const OWN_ERRORS: Record<string, { prototype: Error }> = Object.fromEntries(
  [...Object.values(errors), ...Object.values(contractErrors)]
    .filter((x): x is typeof errors.AsyncflowError => typeof x === "function" && (x === errors.AsyncflowError || x.prototype instanceof errors.AsyncflowError))
    .map((c) => [c.name, c]),
);

/** A task's failure as it was thrown: the value itself when it was not an Error (and cloned), else deserializeError's. */
export function deserializeFailure(data: SerializedError): unknown {
  return data.thrown !== undefined ? data.thrown.value : deserializeError(data);
}

/** An Error with the same name, message, stack, cause and fields; a built-in or asyncflow class where the name is one. */
export function deserializeError(data: SerializedError): Error {
  const Ctor = BUILTIN_ERRORS[data.name] ?? Error;
  const error = new Ctor(data.message);
  const own = Object.hasOwn(OWN_ERRORS, data.name) ? OWN_ERRORS[data.name] : undefined;
  if (own !== undefined) Object.setPrototypeOf(error, own.prototype);
  if (error.name !== data.name) Object.defineProperty(error, "name", { value: data.name, writable: true, configurable: true });
  if (data.stack !== undefined) error.stack = data.stack;
  if (data.cause !== undefined) {
    const cause = "value" in data.cause ? data.cause.value : deserializeError(data.cause);
    Object.defineProperty(error, "cause", { value: cause, writable: true, configurable: true });
  }
  if (data.fields !== undefined) Object.assign(error, data.fields);
  return error;
}

function cloneOrString(x: unknown): unknown {
  return findUncloneable(x) === null ? x : errors.safeString(x);
}

// Classes structured clone keeps (or turns into their base class without loss
// that matters: a Buffer arrives as a Uint8Array).
const CLONEABLE: readonly (abstract new (...args: never[]) => unknown)[] = [
  Date,
  RegExp,
  ArrayBuffer,
  SharedArrayBuffer,
  DataView,
  Error,
  Boolean,
  Number,
  String,
  Blob,
];

/**
 * Where `value` holds something that cannot cross a thread or process
 * unchanged: a function, a symbol, or an instance of a class other than the
 * built-ins structured clone supports (its methods would be lost). Returns a
 * description such as `a function at .handler`, or null when all of it clones.
 * O(size of the value).
 */
export function findUncloneable(value: unknown): string | null {
  const found = uncloneable(value, null);
  if (found === null) return null;
  const path = found.path.reverse().join("");
  return `${found.what}${path === "" ? "" : ` at ${path}`}${found.why ?? ""}`;
}

/** What cannot be cloned, and where: the path's steps innermost first, made only for what is found (a clean value's walk makes no strings). */
interface Found {
  readonly what: string;
  readonly why?: string;
  readonly path: string[];
}

function uncloneable(value: unknown, seen: Set<object> | null): Found | null {
  switch (typeof value) {
    case "function":
      return { what: "a function", path: [] };
    case "symbol":
      return { what: "a symbol", path: [] };
    case "object":
      break;
    default:
      return null;
  }
  if (value === null || seen?.has(value) === true) return null;
  // Structured clone throws on a Proxy, whatever it wraps.
  if (isProxy(value)) return { what: "a Proxy", path: [] };
  seen?.add(value);
  const moved = " (moved away, by `transfer: true` say)";
  if (ArrayBuffer.isView(value)) return detached(value.buffer) ? { what: "a view of a detached ArrayBuffer", why: moved, path: [] } : null;
  if (value instanceof ArrayBuffer && detached(value)) return { what: "a detached ArrayBuffer", why: moved, path: [] };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]; // read once: a getter may answer differently the second time
      const found = uncloneable(v, (seen ??= below(value, v)));
      if (found !== null) return step(found, `[${i}]`);
    }
    return null;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      const found = uncloneable(v, (seen ??= below(value, v)));
      if (found !== null) return step(found, `.${key}`);
    }
    return null;
  }
  // Exactly Map and Set: a subclass's methods would be lost, as any class's.
  if (proto === Map.prototype) {
    for (const [k, v] of value as Map<unknown, unknown>) {
      seen ??= below(value, k) ?? below(value, v);
      const found = uncloneable(k, seen);
      if (found !== null) return step(found, "<key>");
      const inValue = uncloneable(v, seen);
      if (inValue !== null) return step(inValue, `.get(${errors.safeString(k)})`);
    }
    return null;
  }
  if (proto === Set.prototype) {
    for (const v of value as Set<unknown>) {
      const found = uncloneable(v, (seen ??= below(value, v)));
      if (found !== null) return step(found, "<member>");
    }
    return null;
  }
  if (CLONEABLE.some((C) => value instanceof C)) return null;
  const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
  return { what: `an instance of class ${name}`, why: " (structured clone would drop its prototype and methods)", path: [] };
}

/** The objects a walk has seen, made when it first goes below the top into an object: a value of primitives needs none. */
function below(top: object, child: unknown): Set<object> | null {
  if (typeof child !== "object" || child === null) return null;
  const seen = new Set<object>();
  seen.add(top);
  return seen;
}

function step(found: Found, segment: string): Found {
  found.path.push(segment);
  return found;
}

// Structured clone throws on a detached buffer (and the engine's thread backend once called that its worker dying).
// A detached buffer has no bytes: only empty ones are tried, by cloning them (Node 20 has no `detached` getter).
function detached(buffer: ArrayBufferLike): boolean {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== 0) return false;
  try {
    structuredClone(buffer);
    return false;
  } catch {
    return true;
  }
}

/** `JSON.parse(text)`, or undefined when `text` is not JSON (for input that may be anything: a torn trace line, a message from Redis). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
