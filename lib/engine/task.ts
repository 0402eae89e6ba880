import type { ExecutionBackend } from "../contract/backend.js";
import type { TaskKind } from "../contract/states.js";
import type { AnyTaskOptions } from "../contract/task.js";
import { contractOf } from "./contract.js";
import type { TaskDefinition, TaskFuture, TaskHost } from "./future.js";

/** A value, or a future of it, or (for plain arrays and objects) a structure holding futures at any depth. */
export type Input<T> =
  | T
  | TaskFuture<T>
  | (T extends readonly unknown[]
      ? { [K in keyof T]: Input<T[K]> }
      : T extends (...args: never[]) => unknown
        ? never
        : T extends object // interfaces too, which have no index signature
          ? { [K in keyof T]: Input<T[K]> }
          : never);

/** The parameters of `fn`, each widened to accept futures. */
export type Inputs<A extends unknown[]> = { [K in keyof A]: Input<A[K]> };

/** What calling a task wrapper looks like. */
export type TaskWrapper<A extends unknown[], R> = (...args: Inputs<A>) => TaskFuture<R>;

/**
 * Makes the wrapper for `fn`: a function with `fn`'s name that registers a
 * task and returns its future. Options are validated before this (engine.ts).
 * @internal
 */
export function defineTask(
  session: TaskHost,
  kind: TaskKind,
  fn: (...args: never[]) => unknown,
  options: AnyTaskOptions,
  backend: ExecutionBackend,
): (...args: unknown[]) => TaskFuture {
  const def: TaskDefinition = { name: options.name ?? taskName(fn), kind, fn, backend, options, contract: contractOf(kind, options), session };
  const wrapper = (...args: unknown[]): TaskFuture => session.call(def, args);
  Object.defineProperty(wrapper, "name", { value: def.name });
  return wrapper;
}

/** The name a task gets when `opts.name` is absent. */
export function taskName(fn: Function): string {
  return typeof fn.name === "string" && fn.name !== "" ? fn.name : "anonymous";
}
