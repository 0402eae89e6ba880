import type { ExecutionBackend } from "../contract/backend.js";
import type { TaskKind } from "../contract/states.js";
import type { AnyTaskOptions } from "../contract/task.js";
import type { Edge } from "./edges.js";
import type { MemoPolicy } from "./identity.js";
import { contractOf } from "./contract.js";
import type { TaskDefinition, TaskFuture, TaskHost } from "./future.js";

/**
 * A value, or a future of it, or a future under a per-edge policy handing it
 * (`settled`, `optional`), or (for plain arrays and objects) a structure
 * holding those at any depth. A class instance is taken whole, or as a
 * future: see {@link Opaque}.
 */
export type Input<T> =
  // T itself, untouched: a generic caller's `w(x)`, `x: T`, compiles only so.
  // Hence a future passes where T is an object type it fits ({ name: string },
  // PromiseLike<number>), and the body receives its value.
  | T
  | TaskFuture<T>
  | Edge<T>
  | (T extends readonly unknown[]
      ? number extends T["length"]
        ? InputArray<T>
        : { [K in keyof T]: Input<T[K]> }
      : T extends (...args: never[]) => unknown
        ? never
        : T extends object // interfaces too, which have no index signature
          ? Opaque<T> extends true
            ? never
            : { [K in keyof T]: Input<T[K]> }
          : never);

/**
 * Whether `T` is the type of class instances, which the argument scan does
 * not enter (args.ts): a future inside one would reach the body unresolved.
 * Types do not show prototypes; what shows one here is a built-in class, or
 * members `keyof` does not list (private, protected, `#`), which make a type
 * its public members do not fit. A class of public members only has the type
 * of a plain object, and is taken as one.
 */
type Opaque<T> = T extends BuiltIn ? true : { [K in keyof T]: T[K] } extends T ? false : true;
type BuiltIn = Date | RegExp | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | WeakMap<WeakKey, unknown> | WeakSet<WeakKey> | ArrayBufferLike | ArrayBufferView | Promise<unknown>;

// Arrays (not tuples) through interfaces: an interface's base type is resolved
// when it is looked into, where a mapped array type makes its element at once,
// so a recursive alias (`type Json = ... | Json[]`) made Input<Json> endless (TS2589).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the interface, unlike an alias, defers its element
interface InputArrayOf<E> extends Array<Input<E>> {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the interface, unlike an alias, defers its element
interface ReadonlyInputArrayOf<E> extends ReadonlyArray<Input<E>> {}
type InputArray<T extends readonly unknown[]> = T extends unknown[] ? InputArrayOf<T[number]> : ReadonlyInputArrayOf<T[number]>;

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
  memo: MemoPolicy | null = null,
): (...args: unknown[]) => TaskFuture {
  const def: TaskDefinition = { name: options.name ?? taskName(fn), kind, fn, backend, options, contract: contractOf(kind, options), session, memo };
  const wrapper = (...args: unknown[]): TaskFuture => session.call(def, args);
  Object.defineProperty(wrapper, "name", { value: def.name });
  return wrapper;
}

/** The name a task gets when `opts.name` is absent. */
export function taskName(fn: Function): string {
  return typeof fn.name === "string" && fn.name !== "" ? fn.name : "anonymous";
}
