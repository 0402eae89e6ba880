import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncflowError } from "./errors.js";
import { ExitRequest } from "./contract-errors.js";

/** What a task body can ask of its surroundings, through {@link taskContext}. */
export interface TaskContext {
  /** The task's uid, e.g. `task.000003`. */
  readonly uid: string;
  readonly name: string;
  /** 1 on the first run; retries count up from there. */
  readonly attempt: number;
  /**
   * Queue workers and batched thread tasks: how many times this run was
   * handed to a worker, 2 and up when it was handed over again after a worker
   * (a queue's, Redis, or a batch's thread) was lost with it, so the body may
   * have run before: bodies should be idempotent.
   */
  readonly delivery?: number;
  /** Aborted when the task is cancelled: pass it to fetch, child processes, timers. */
  readonly signal: AbortSignal;
  /**
   * Ends the task FAILED with the ExitCodeError of `label`, one of its declared
   * `exitCodes` (an undeclared label fails it with an error listing them).
   * Throws: the code after it does not run.
   */
  exit(label: string): never;
}

/**
 * What every body's context shares, whatever runs it: `exit`, and how it
 * shows when logged or serialized (its plain fields, the same on every
 * backend). Contexts are class instances, so that their signal is made only
 * when read; the local backend's is the run itself, which holds the engine's
 * future: printed as it was, it showed internals, and as JSON it threw on a
 * cycle.
 */
export abstract class ContextBase implements TaskContext {
  abstract readonly uid: string;
  abstract readonly name: string;
  abstract readonly attempt: number;
  abstract readonly signal: AbortSignal;
  declare readonly delivery?: number;

  exit(label: string): never {
    return exitTask(label);
  }
  toJSON(): { uid: string; name: string; attempt: number; delivery?: number } {
    const { uid, name, attempt, delivery } = this;
    return delivery === undefined ? { uid, name, attempt } : { uid, name, attempt, delivery };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `TaskContext ${JSON.stringify(this)}`;
  }
}

/** What `exit(label)` does in every context: the engine maps the ExitRequest onto the task's exit codes. */
export function exitTask(label: string): never {
  throw new ExitRequest(label);
}

// Keyed on the global symbol registry so that a task module that imports
// "asyncflow" by another path (dist vs. sources, or inside a worker thread)
// still sees the same store.
const KEY = Symbol.for("asyncflow.taskContext");
type Holder = { [KEY]?: AsyncLocalStorage<TaskContext> };
const storage: AsyncLocalStorage<TaskContext> = ((globalThis as Holder)[KEY] ??= new AsyncLocalStorage());

/**
 * The context of the task whose body is running, at any async depth within it.
 * @throws AsyncflowError outside a task body.
 */
export function taskContext(): TaskContext {
  const ctx = storage.getStore();
  if (ctx === undefined) {
    throw new AsyncflowError("taskContext() was called outside a task body: call it inside a function task, executable task or block");
  }
  return ctx;
}

/** The running context, or undefined outside any task. */
export function currentContext(): TaskContext | undefined {
  return storage.getStore();
}

/** Whether a body returned something to wait for (a promise, or any thenable). */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as { then?: unknown }).then === "function";
}

// Node before 24 propagates the store with promise hooks, which slow every
// promise in the process (the user's own code too) while the store is
// enabled, and it stays enabled once entered. So it is disabled again once no
// body is in flight: a body's continuations need it, nothing else does. Node
// 24 propagates the store without hooks (AsyncContextFrame): nothing to do.
// The count is global, like the store, for every copy of asyncflow loaded.
const HOOKED = Number(process.versions.node.split(".")[0]) < 24;
const COUNT_KEY = Symbol.for("asyncflow.taskContext.bodies");
type Counter = { inFlight: number; check: boolean };
const bodies: Counter = ((globalThis as { [COUNT_KEY]?: Counter })[COUNT_KEY] ??= { inFlight: 0, check: false });

const disableIfIdle = (): void => {
  bodies.check = false;
  if (bodies.inFlight === 0) storage.disable();
};

/**
 * A body run by {@link runTracked} that returned a thenable has settled.
 * Once none is in flight until the next turn of the event loop, the store is
 * disabled (Node < 24), so promises outside task bodies pay no hooks.
 */
export function bodyEnded(): void {
  if (--bodies.inFlight === 0 && HOOKED && !bodies.check) {
    bodies.check = true;
    setImmediate(disableIfIdle).unref();
  }
}

/**
 * Runs `fn(...args)` with `ctx` as the task context. When it returns a
 * thenable, the caller calls {@link bodyEnded} once that settles.
 */
export function runTracked<A extends unknown[], R>(ctx: TaskContext, fn: (...args: A) => R, args: A): R {
  bodies.inFlight++;
  let out: R;
  try {
    // `storage.run(ctx, fn, ...args)` would spread twice (into run's rest parameter, then into
    // `fn`): two frames of 100,000 arguments overflow the stack where the user's one spread
    // (`sink(...futures)`) does not. The array goes through whole and is spread once, in `apply`.
    out = storage.run(ctx, apply, fn, args);
  } catch (error) {
    bodyEnded();
    throw error;
  }
  if (!isThenable(out)) bodyEnded();
  return out;
}

/** Runs `fn(...args)` with `ctx` as the task context; a thenable it returns is followed to know when the body ended. */
export function runInContext<A extends unknown[], R>(ctx: TaskContext, fn: (...args: A) => R, args: A): R {
  const out = runTracked(ctx, fn, args);
  // through a native promise: exactly one of the two runs, once, whatever the thenable does
  if (isThenable(out)) void Promise.resolve(out).then(bodyEnded, bodyEnded);
  return out;
}

function apply<A extends unknown[], R>(fn: (...args: A) => R, args: A): R {
  return fn(...args);
}
