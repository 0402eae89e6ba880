import type { ExecutionBackend } from "../backends/backend.js";
import type { TaskFuture } from "./future.js";
import type { Session } from "./session.js";
import type { TaskKind } from "./states.js";

/** Options every kind of task takes. */
export interface TaskOptions {
  /** Shown in uids' companions, logs, errors and `graph()`. @default fn.name */
  name?: string;
  /** The backend that runs the task, by its name. @default the engine's first backend */
  backend?: string;
}

export interface FunctionTaskOptions extends TaskOptions {
  /**
   * A module (URL or path) that exports the function as `name ?? fn.name`.
   * Backends that run tasks elsewhere (threads) import it there instead of
   * shipping the function's source.
   */
  module?: string | URL;
  /**
   * Worker backends: move ArrayBuffers (and the buffers of typed arrays) in the
   * arguments, and a result that is one, instead of copying them. The sender's
   * buffers are detached afterwards. @default false
   */
  transfer?: boolean;
}

export interface ExecutableTaskOptions extends TaskOptions {
  /** Working directory of the process. @default the engine's workDir */
  cwd?: string;
  /** Variables added to the parent's environment. */
  env?: Record<string, string>;
  /** Milliseconds before the process is sent SIGTERM and the task fails. */
  timeout?: number;
  /** Write stdout/stderr to `<workDir>/<session uid>/<task uid>.stdout|.stderr`; the task resolves to the stdout path. */
  captureStdio?: boolean;
}

/** Every option a run may carry, as a backend sees them. */
export type AnyTaskOptions = FunctionTaskOptions & ExecutableTaskOptions;

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

/** What an executable task's function returns: a shell command line, or an argv array run without a shell. */
export type Command = string | readonly string[];

/** @internal a wrapped function, shared by every call of its wrapper */
export interface TaskDefinition {
  readonly name: string;
  readonly kind: TaskKind;
  readonly fn: (...args: never[]) => unknown;
  /** null for blocks, which run in the engine */
  readonly backend: ExecutionBackend | null;
  readonly options: AnyTaskOptions;
  readonly session: Session;
}

/**
 * Makes the wrapper for `fn`: a function with `fn`'s name that registers a
 * task and returns its future. Options are validated before this (engine.ts).
 * @internal
 */
export function defineTask(
  session: Session,
  kind: TaskKind,
  fn: (...args: never[]) => unknown,
  options: AnyTaskOptions,
  backend: ExecutionBackend | null,
): (...args: unknown[]) => TaskFuture {
  const def: TaskDefinition = { name: options.name ?? taskName(fn), kind, fn, backend, options, session };
  const wrapper = (...args: unknown[]): TaskFuture => session.call(def, args);
  Object.defineProperty(wrapper, "name", { value: def.name });
  return wrapper;
}

/** The name a task gets when `opts.name` is absent. */
export function taskName(fn: Function): string {
  return typeof fn.name === "string" && fn.name !== "" ? fn.name : "anonymous";
}
