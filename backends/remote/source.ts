import detectGlobals from "acorn-globals";
import { InvalidTaskError } from "../../lib/contract/errors.js";
import { freeVariableError, type ShippedFunction } from "./protocol.js";

/**
 * Turning a self-contained function into source a worker can compile, and
 * refusing, when the task is defined, one that uses a variable from its
 * enclosing scope (it would not exist in a worker thread or a queue worker's
 * process).
 */

// Names through which a shipped body could reach `taskContext`.
const CONTEXT_NAMES = new Set(["taskContext", "globalThis", "global", "self", "eval", "Function"]);

// Names a worker defines beside the JS and Node globals: `taskContext` for
// shipped bodies, `__name` for the helper esbuild (tsx) injects around inner
// functions to keep their names.
const WORKER_EXTRA_GLOBALS = ["taskContext", "__name"] as const;

let workerGlobals: Set<string> | null = null;
function knownGlobals(): Set<string> {
  if (workerGlobals !== null) return workerGlobals;
  const names = new Set<string>(WORKER_EXTRA_GLOBALS);
  for (let o: object | null = globalThis; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const n of Object.getOwnPropertyNames(o)) names.add(n);
  }
  // module-scope names of CommonJS and ESM that a function must not rely on in a worker
  for (const n of ["require", "module", "exports", "__filename", "__dirname"]) names.delete(n);
  for (const n of ["arguments", "undefined", "NaN", "Infinity", "globalThis", "this"]) names.add(n);
  return (workerGlobals = names);
}

const cache = new WeakMap<Function, ShippedFunction>();
let lastId = 0;

/**
 * The shippable form of `fn`, checked: no free variable beyond the worker's
 * globals. Cached per function object.
 * @throws InvalidTaskError naming the task and the identifier.
 */
export function shipFunction(fn: Function, taskName: string): ShippedFunction {
  const hit = cache.get(fn);
  if (hit !== undefined) return hit;
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new InvalidTaskError(taskName, "a native or bound function cannot be shipped to a worker: give the task a `module` that exports it");
  }
  if (/^class\b/.test(source)) throw new InvalidTaskError(taskName, "a class is not a task function");
  const expression = toExpression(source, fn.name, taskName);
  const names = freeIdentifiers(expression, taskName);
  const free = names.filter((n) => !knownGlobals().has(n));
  if (free.length > 0) throw freeVariableError(taskName, free);
  // The text test also catches `this.taskContext()` in a sloppy-mode function, where `this` is the global object.
  const context = expression.includes("taskContext") || names.some((n) => CONTEXT_NAMES.has(n));
  const shipped = { id: ++lastId, expression, context };
  cache.set(fn, shipped);
  return shipped;
}

// `function f() {}`, `async () => {}` and `x => x` are expressions already;
// a method written in shorthand (`double(x) { ... }`) becomes one inside an
// object literal.
function toExpression(source: string, name: string, taskName: string): string {
  const candidates = [`(${source})`, `({ ${source} })[${JSON.stringify(name)}]`];
  for (const c of candidates) if (parses(c)) return c;
  throw new InvalidTaskError(taskName, "the function's source cannot be parsed for shipping to a worker: give the task a `module` that exports it");
}

function parses(expression: string): boolean {
  try {
    detectGlobals(expression, { ecmaVersion: "latest" });
    return true;
  } catch {
    return false;
  }
}

function freeIdentifiers(expression: string, taskName: string): string[] {
  try {
    return detectGlobals(expression, { ecmaVersion: "latest" }).map((g) => g.name);
  } catch (error) {
    throw new InvalidTaskError(taskName, "the function's source cannot be parsed for shipping to a worker", { cause: error });
  }
}
