import { InvalidStateError } from "../contract/errors.js";
import { TaskState, isFinal } from "../contract/states.js";
import type { TaskDefinition } from "./task.js";
import type { TaskRun } from "../contract/run.js";

/** Called once with the future when it reaches a final state. */
export type DoneCallback<T> = (future: TaskFuture<T>) => void;

interface Deferred {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const UID_DIGITS = 6;

/**
 * The handle a task wrapper returns at once. It carries the task's lifecycle
 * in {@link TaskFuture.state}, takes done-callbacks, can be cancelled and is
 * awaitable. Pass it as an argument to another task to make a dependency.
 *
 * The engine's per-task bookkeeping lives on the future itself (fields marked
 * internal) so that a task costs one object while it waits.
 */
export class TaskFuture<T = unknown> implements PromiseLike<T> {
  /** @internal */ readonly _id: number;
  /** @internal */ readonly _def: TaskDefinition;
  /** @internal */ _state: TaskState = TaskState.PENDING;
  /** @internal result, or failure, once final */ _value: unknown = undefined;
  /** @internal arguments until dispatch, then dropped */ _args: unknown[] | null;
  /** @internal dependencies not yet DONE */ _waiting = 0;
  /** @internal keys (see _key) of dependencies, for graph() */ _deps: number[] | null = null;
  /** @internal tasks waiting on this one; dropped once they are released */ _dependents: TaskFuture[] | null = null;
  /** @internal tasks created by this block's body while it runs */ _children: TaskFuture[] | null = null;
  /** @internal one callback, or several in order (most futures have none or one) */ _callbacks: DoneCallback<T> | DoneCallback<T>[] | null = null;
  /** @internal neighbours in the engine's list of live tasks */ _prev: TaskFuture | null = null;
  /** @internal */ _next: TaskFuture | null = null;
  /** @internal made only when someone awaits */ _deferred: Deferred | null = null;
  /** @internal the submission in flight; null when not running */ _run: TaskRun | null = null;

  // Futures are made by task wrappers (through `_create`), never by users.
  private constructor(def: TaskDefinition, id: number, args: unknown[]) {
    this._def = def;
    this._id = id;
    this._args = args;
  }

  /** @internal */
  static _create(def: TaskDefinition, id: number, args: unknown[]): TaskFuture {
    return new TaskFuture(def, id, args);
  }

  /** `task.000001`, `block.000002`: unique within the engine. */
  get uid(): string {
    return depUid(this._key);
  }
  /** @internal the id, negative for blocks: names the task compactly in dependency lists */
  get _key(): number {
    return this._def.kind === "block" ? -this._id : this._id;
  }
  /** The function's name, or the `name` option. */
  get name(): string {
    return this._def.name;
  }
  get state(): TaskState {
    return this._state;
  }
  /** True in any final state: DONE, FAILED or CANCELLED. */
  done(): boolean {
    return isFinal(this._state);
  }
  cancelled(): boolean {
    return this._state === TaskState.CANCELLED;
  }

  /**
   * The result of a DONE task.
   * @throws the failure of a FAILED task, the TaskCancelledError of a cancelled one,
   * or InvalidStateError while the task has not finished.
   */
  result(): T {
    if (this._state === TaskState.DONE) return this._value as T;
    if (isFinal(this._state)) throw this._value;
    throw new InvalidStateError(`${this.uid} (${this.name}) has no result yet: it is ${this._state}`);
  }

  /** The failure (or TaskCancelledError) of a finished task; undefined when DONE or not finished. */
  exception(): unknown {
    return this._state === TaskState.FAILED || this._state === TaskState.CANCELLED ? this._value : undefined;
  }

  /**
   * Calls `cb(future)` once the task is final: synchronously as it settles, in
   * the order added; if it already is, soon after (in a microtask).
   */
  addDoneCallback(cb: DoneCallback<T>): this {
    if (typeof cb !== "function") throw new TypeError(`addDoneCallback expects a function, got ${typeof cb}`);
    if (isFinal(this._state)) {
      queueMicrotask(() => this._def.session.callback(this as TaskFuture, cb as DoneCallback<unknown>));
    } else {
      const list = this._callbacks;
      this._callbacks = list === null ? cb : typeof list === "function" ? [list, cb] : (list.push(cb), list);
    }
    return this;
  }

  /** Removes every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: DoneCallback<T>): number {
    const list = this._callbacks;
    if (list === null) return 0;
    const all = typeof list === "function" ? [list] : list;
    const kept = all.filter((x) => x !== cb);
    this._callbacks = kept.length === 0 ? null : kept.length === 1 ? kept[0]! : kept;
    return all.length - kept.length;
  }

  /**
   * Cancels the task: a pending one never runs, a running one has its
   * `taskContext().signal` aborted. Either way the future is CANCELLED at once
   * and its dependents are cancelled too.
   * @returns false when the task had already finished.
   */
  cancel(reason = "cancelled by the user"): boolean {
    return this._def.session.cancel(this as TaskFuture, reason);
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return (this.#promise() as Promise<T>).then(onFulfilled, onRejected);
  }
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return (this.#promise() as Promise<T>).catch(onRejected);
  }
  finally(onFinally?: (() => void) | null): Promise<T> {
    return (this.#promise() as Promise<T>).finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return `TaskFuture ${this.uid} (${this.name}) ${this._state}`;
  }

  // A promise is made only for futures someone awaits: most futures in a large
  // graph are only passed along, and an unawaited rejected promise would be an
  // unhandled rejection.
  #promise(): Promise<unknown> {
    if (this._deferred !== null) return this._deferred.promise;
    if (this._state === TaskState.DONE) return Promise.resolve(this._value);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with exactly what the task threw
    if (isFinal(this._state)) return Promise.reject(this._value);
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this._deferred = { promise, resolve, reject };
    return promise;
  }
}

/** The uid for a key: `task.000001` for 1, `block.000002` for -2. */
export function depUid(key: number): string {
  return key < 0 ? `block.${String(-key).padStart(UID_DIGITS, "0")}` : `task.${String(key).padStart(UID_DIGITS, "0")}`;
}
