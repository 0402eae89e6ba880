/**
 * The worker side of ThreadBackend: compiles shipped functions (once per
 * function per worker) or imports module exports, runs them in a task
 * context, and returns the result or throws a ThreadFailure.
 */
import { move } from "piscina";
import { findUncloneable, serializeError } from "../../lib/codec.js";
import { runInContext, taskContext, type TaskContext } from "../../lib/context.js";
import { InvalidTaskError } from "../../lib/errors.js";
import { TYPESCRIPT_FILE, freeVariableError, type ThreadBatch, type ThreadFailure, type ThreadOutcome, type ThreadTask } from "./protocol.js";

type AnyFunction = (...args: unknown[]) => unknown;
const g = globalThis as { __name?: unknown; taskContext?: unknown };
g.__name ??= (fn: Function, name: string) => Object.defineProperty(fn, "name", { value: name, configurable: true });
g.taskContext = taskContext;

const compiled = new Map<number, AnyFunction>();
const modules = new Map<string, Promise<Record<string, unknown>>>();
// Cancelling a thread task terminates its worker, so the signal a body sees here never fires.
const signal = new AbortController().signal;
let typescript: Promise<void> | null = null;

export default async function runThreadTask(work: ThreadTask | ThreadBatch): Promise<unknown> {
  if (!("batch" in work)) return runOne(work);
  const outcomes: ThreadOutcome[] = [];
  for (const task of work.batch) {
    try {
      const value = await runOne(task);
      outcomes.push({ value });
    } catch (failure) {
      outcomes.push({ error: (failure as ThreadFailure).asyncflowFailure });
    }
  }
  return outcomes;
}

async function runOne(task: ThreadTask): Promise<unknown> {
  let value: unknown;
  try {
    const fn = "expression" in task.fn ? compile(task.fn) : await exported(task.fn.module, task.fn.export, task.name);
    const ctx: TaskContext = { uid: task.uid, name: task.name, attempt: task.attempt, signal };
    value = await runInContext(ctx, fn, task.args);
  } catch (error) {
    const missing = error instanceof ReferenceError && "expression" in task.fn ? /^(\S+) is not defined$/.exec(error.message) : null;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- plain data survives the crossing whole
    throw fail(missing ? freeVariableError(task.name, [missing[1]!]) : error);
  }
  const bad = findUncloneable(value);
  if (bad !== null) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- plain data survives the crossing whole
    throw fail(new InvalidTaskError(task.name, `${task.uid} returned ${bad}, which cannot be sent back from a worker thread`));
  }
  return task.transfer && (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) ? move(value) : value;
}

function fail(error: unknown): ThreadFailure {
  return { asyncflowFailure: serializeError(error) };
}

function compile(fn: { id: number; expression: string }): AnyFunction {
  let f = compiled.get(fn.id);
  if (f === undefined) {
    // Compiling shipped source is the point of a shipped function; it was parsed and checked for free variables when the task was defined.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    f = (new Function(`return ${fn.expression};`) as () => AnyFunction)();
    compiled.set(fn.id, f);
  }
  return f;
}

async function exported(href: string, name: string, taskName: string): Promise<AnyFunction> {
  let mod = modules.get(href);
  if (mod === undefined) {
    mod = load(href);
    modules.set(href, mod);
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

async function load(href: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT_FILE.test(href) && !(globalThis as Record<symbol, unknown>)[Symbol.for("asyncflow.tsx")]) {
    typescript ??= import("tsx/esm/api").then((m) => void m.register());
    await typescript;
  }
  return (await import(href)) as Record<string, unknown>;
}
