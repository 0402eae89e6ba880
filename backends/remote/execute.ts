/**
 * The far side of a remote run, shared by thread workers and queue workers:
 * compiles shipped functions (once per function per worker) or imports module
 * exports, and runs the body in a task context.
 */
import { ContextBase, runInContext, taskContext } from "../../lib/contract/context.js";
import { InvalidTaskError } from "../../lib/contract/errors.js";
import { withTraceContext } from "../../lib/contract/tracecontext.js";
import { forgetOldest } from "./bounded.js";
import { TYPESCRIPT_FILE, freeVariableError, moduleFile, type RemoteTask, type ShippedFunction } from "./protocol.js";

export type AnyFunction = (...args: unknown[]) => unknown;
const g = globalThis as { __name?: unknown; taskContext?: unknown };
g.__name ??= (fn: Function, name: string) => Object.defineProperty(fn, "name", { value: name, configurable: true });
g.taskContext = taskContext;

// Keyed by source, not by the shipped id: ids count from 1 in every engine
// process, and a queue worker serves many processes. Bounded, oldest out,
// since a long-lived worker sees the functions of every session it serves.
const compiled = new Map<string, AnyFunction>();
const MAX_COMPILED = 1000;
// Bounded too (Node keeps what it imported, but this map need not grow with every href a worker is sent).
const modules = new Map<string, Promise<Record<string, unknown>>>();
const MAX_MODULES = 100;
let typescript: Promise<void> | null = null;

/**
 * Runs `task`'s body and resolves with its result; the body's
 * `taskContext().signal` is `control.signal`.
 * @throws the body's error; InvalidTaskError for a module or export that cannot be
 * loaded, or a shipped function that uses a name this worker lacks.
 */
export async function executeRemote(task: RemoteTask, control: { readonly signal: AbortSignal }): Promise<unknown> {
  try {
    const ref = task.fn;
    const fn = "expression" in ref ? compile(ref) : await exported(ref.module, ref.export, task.name);
    return await runBody(fn, task, control, !("expression" in ref) || ref.context);
  } catch (error) {
    const missing = error instanceof ReferenceError && "expression" in task.fn ? /^(\S+) is not defined$/.exec(error.message) : null;
    throw missing ? freeVariableError(task.name, [missing[1]!]) : error;
  }
}

/** What a body's context is made of, beyond its signal; `trace`, the W3C trace context of its task's span. */
export type BodyRun = Pick<RemoteTask, "uid" | "name" | "attempt" | "args" | "trace" | "delivery">;

/**
 * Runs `fn` on the run's arguments, in a task context unless `context` is
 * false (a shipped body that cannot reach it). With a `trace` carrier, and
 * OpenTelemetry set up here by then (even by the task's own module), the
 * task's span is the active parent of the spans the body starts.
 */
export async function runBody(fn: AnyFunction, task: BodyRun, control: { readonly signal: AbortSignal }, context: boolean): Promise<unknown> {
  if (task.trace !== undefined) return withTraceContext(task.trace, () => run(fn, task, control, context));
  return run(fn, task, control, context);
}

async function run(fn: AnyFunction, task: BodyRun, control: { readonly signal: AbortSignal }, context: boolean): Promise<unknown> {
  if (!context) return await fn(...task.args);
  return await runInContext(new RemoteContext(task, control), fn, task.args);
}

/**
 * A body's context on a worker. `signal` is read through `control`, so that a
 * worker may make it only when a body asks for it. A class, not an object
 * literal with a getter: each evaluation of such a literal gets a hidden class
 * of its own holding that evaluation's getter, and until the next full
 * collection those kept every run's garbage alive through the young
 * generation's collections (a queue worker promoted ~1.7 KB a job to the old
 * generation, `--trace-gc-nvp`; with classes, nothing in steady state).
 */
class RemoteContext extends ContextBase {
  readonly uid: string;
  readonly name: string;
  readonly attempt: number;
  declare readonly delivery?: number;
  readonly #control: { readonly signal: AbortSignal };
  constructor(task: BodyRun, control: { readonly signal: AbortSignal }) {
    super();
    this.uid = task.uid;
    this.name = task.name;
    this.attempt = task.attempt;
    if (task.delivery !== undefined) this.delivery = task.delivery;
    this.#control = control;
  }
  get signal(): AbortSignal {
    return this.#control.signal;
  }
}

export function compile(fn: Pick<ShippedFunction, "expression">): AnyFunction {
  let f = compiled.get(fn.expression);
  if (f === undefined) {
    // Compiling shipped source is the point of a shipped function; it was parsed and checked for free variables when the task was defined.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    f = (new Function(`return ${fn.expression};`) as () => AnyFunction)();
    compiled.set(fn.expression, f);
    forgetOldest(compiled, MAX_COMPILED);
  }
  return f;
}

export async function exported(href: string, name: string, taskName: string): Promise<AnyFunction> {
  let mod = modules.get(href);
  if (mod === undefined) {
    mod = importModule(href);
    modules.set(href, mod);
    forgetOldest(modules, MAX_MODULES);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await mod;
  } catch (error) {
    modules.delete(href);
    throw new InvalidTaskError(taskName, `module ${href} (for export \`${name}\`) could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  const f = ns[name];
  if (typeof f !== "function") {
    const has = Object.keys(ns).filter((k) => typeof ns[k] === "function");
    throw new InvalidTaskError(taskName, `module ${href} has no exported function \`${name}\` (it exports ${has.map((k) => `\`${k}\``).join(", ") || "none"})`);
  }
  return f as AnyFunction;
}

/** Imports a module (a TypeScript file through tsx, registered once). */
export async function importModule(given: string): Promise<Record<string, unknown>> {
  const href = given.startsWith("file:") ? (moduleFile(given) ?? given) : given;
  if (TYPESCRIPT_FILE.test(href) && !(globalThis as Record<symbol, unknown>)[Symbol.for("asyncflow.tsx")]) {
    typescript ??= import("tsx/esm/api").then((m) => void m.register());
    await typescript;
  }
  return (await import(href)) as Record<string, unknown>;
}
