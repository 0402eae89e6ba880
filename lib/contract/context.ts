import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncflowError } from "./errors.js";

/** What a task body can ask of its surroundings, through {@link taskContext}. */
export interface TaskContext {
  /** The task's uid, e.g. `task.000003`. */
  readonly uid: string;
  readonly name: string;
  /** 1 on the first run; retries count up from there. */
  readonly attempt: number;
  /** Aborted when the task is cancelled: pass it to fetch, child processes, timers. */
  readonly signal: AbortSignal;
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

/** Runs `fn(...args)` with `ctx` as the task context. */
export function runInContext<A extends unknown[], R>(ctx: TaskContext, fn: (...args: A) => R, args: A): R {
  return storage.run(ctx, fn, ...args);
}
