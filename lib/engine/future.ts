import type { ExecutionBackend } from "../contract/backend.js";
import { InvalidStateError } from "../contract/errors.js";
import type { TaskRun } from "../contract/run.js";
import type { Contract } from "./contract.js";
import type { TimerEntry } from "./timers.js";
import { TaskState, isFinal, type TaskKind } from "../contract/states.js";
import type { AnyTaskOptions } from "../contract/task.js";
import type { MemoPolicy } from "./identity.js";

/** Called once with the future when it reaches a final state. */
export type DoneCallback<T> = (future: TaskFuture<T>) => void;

/**
 * A done-callback as its future holds it, without the future's `T`:
 * held as `DoneCallback<T>`, it made TaskFuture invariant in the engine's own
 * types (a future of `number` refused where `number | null` is taken), while
 * the published declarations, which leave this field out, make it covariant.
 * Engine-internal: not tagged internal only because TaskHost's declaration names it.
 */
export type HeldCallback = DoneCallback<never>;

/**
 * What futures and task wrappers need of the session that made them (the
 * engine's Session). An interface here keeps the future at the bottom of the
 * engine: nothing it imports imports it. Not exported by the package.
 */
export interface TaskHost {
  /** Registers a call of `def`'s wrapper: define -> future -> graph. */
  call(def: TaskDefinition, args: unknown[]): TaskFuture;
  cancel(f: TaskFuture, reason: string): boolean;
  /** Runs a done-callback, guarded. */
  callback(f: TaskFuture, cb: HeldCallback): void;
}

/** A wrapped function, shared by every call of its wrapper. Not exported by the package. */
export interface TaskDefinition {
  readonly name: string;
  readonly kind: TaskKind;
  readonly fn: (...args: never[]) => unknown;
  /** Where it runs: a backend of the engine, or for blocks the engine's BlockRunner. */
  readonly backend: ExecutionBackend;
  readonly options: AnyTaskOptions;
  /** Validation, exit codes, retries and limits; null when it declares none */
  readonly contract: Contract | null;
  readonly session: TaskHost;
  /** How its results are reused (`cache`, `checkpoint`); null: never. */
  readonly memo: MemoPolicy | null;
}

// Never written: substitute() fills an arguments array in place only where it holds futures, and a run gets an array of its own.
const NO_ARGS: unknown[] = Object.freeze([]) as unknown as unknown[];

// The resolve function of the promise a future is, handed from the executor
// to the constructor (the executor runs inside super(), before `this`
// exists). Its reject function is left to the collector: a failure settles
// the promise through resolve (see settle.ts), and every pending future is
// one function lighter.
let nextResolve: ((value: unknown) => void) | null = null;
const capture = (resolve: (value: unknown) => void): void => {
  nextResolve = resolve;
};

// Promise, typed as a mere thenable: most futures are passed along, not
// awaited, and linters (no-floating-promises) would ask for every call that
// drops a Promise to be awaited or voided.
const ThenableBase = Promise as unknown as new (executor: typeof capture) => object;
/**
 * What the engine keeps of the attempts of a task with retries, a timeout or
 * a deadline (attempts.ts); made at its first dispatch. Engine-internal: not
 * tagged internal only because attempts.ts's declarations name it.
 */
export interface AttemptRecord {
  /** The attempt running, or the next one while waiting to retry. */
  attempt: number;
  /** The last attempt that started (0: none yet): what a task that ends while waiting to retry names. */
  ran: number;
  /** performance.now() when the first attempt started (`_started` is the last one's); 0 until then. */
  firstStarted: number;
  /** The arguments, validated: every attempt gets them. */
  readonly args: unknown[];
  lastError: unknown;
  /** The running attempt's timeout, or the delay before the next attempt. */
  readonly attemptLimit: TimerEntry;
  deadlineLimit: TimerEntry | null;
}

const UID_DIGITS = 6;

/**
 * The handle a task wrapper returns at once. It carries the task's lifecycle
 * in {@link TaskFuture.state}, takes done-callbacks, can be cancelled and is
 * awaitable. Pass it as an argument to another task to make a dependency.
 *
 * The engine's per-task bookkeeping lives on the future itself (fields marked
 * internal) so that a task costs one object while it waits.
 *
 * A future is a native promise (whose `constructor` is `Promise`), so that
 * `await future`, `Promise.all(futures)` and `Promise.resolve(future)` take it
 * as the promise it is: a foreign thenable costs each awaiter a wrapper
 * promise with its resolving functions, a microtask, and a deferred promise
 * behind `then` (~350 bytes per awaited future, measured).
 */
export class TaskFuture<out T = unknown> extends ThenableBase implements PromiseLike<T> {
  /** @internal */ readonly _id: number;
  /** @internal */ readonly _def: TaskDefinition;
  /** @internal */ _state: TaskState = TaskState.PENDING;
  /** @internal result, or failure, once final */ _value: unknown = undefined;
  /** @internal arguments until dispatch, then dropped; a lone future argument without its array */ _args: unknown[] | TaskFuture | null;
  /** @internal dependencies not yet DONE */ _waiting = 0;
  /** @internal keys (see _key) of dependencies, for graph(): one as a number, several as an array */ _deps: DepKeys = null;
  /** @internal tasks waiting on this one; dropped once they are released */ _dependents: (TaskFuture | Lenient)[] | null = null;
  /** @internal one callback, or several in order (most futures have none or one); LOOKED: none, but someone looked */ _callbacks: HeldCallback | HeldCallback[] | null = null;
  /** @internal neighbours in the engine's list of live tasks */ _prev: TaskFuture | null = null;
  /** @internal */ _next: TaskFuture | null = null;
  /** @internal settles the promise side; dropped once final */ _resolve: ((value: unknown) => void) | null;
  /** @internal the submission in flight; null when not running */ _run: TaskRun | null = null;
  // A block's children and a task's attempts in one field: only blocks have children, and blocks never retry.
  /** @internal read through `_children` (blocks) and `_attempts` (function and executable tasks) */ _extra: TaskFuture[] | AttemptRecord | null = null;
  // Timestamps start undefined (typed as numbers: every reader runs after they are set, or
  // compares with `> 0`), so that V8 keeps these fields tagged: futures made in one burst
  // then share the one number their clock reading is, instead of a boxed copy each (16 B).
  /** @internal performance.now() when made (see Observers.now) */ _created: number = undefined as unknown as number;
  /** @internal performance.now() when the body started; undefined (never > 0) until then */ _started: number = undefined as unknown as number;
  /** @internal where it was made (see Place): read through `_workflow` and `_parent` */ _place: TaskFuture | string | Place | null = null;

  // Futures are made by task wrappers (through `_create`), never by users.
  private constructor(def: TaskDefinition, id: number, args: unknown[]) {
    super(capture);
    this._resolve = nextResolve;
    nextResolve = null; // not held past its future: through it, the last future would keep its engine alive
    this._def = def;
    this._id = id;
    // `work(prev)` is the most common call with a dependency: keep the future, not a one-slot array, while it waits.
    // A call without arguments keeps one shared empty array: of the objects a pending task holds, one fewer for the collector.
    this._args = args.length === 1 && args[0] instanceof TaskFuture ? args[0] : args.length === 0 ? NO_ARGS : args;
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

  /** @internal tasks created by this block's body while it runs */
  get _children(): TaskFuture[] | null {
    const x = this._extra;
    return Array.isArray(x) ? x : null;
  }
  /** @internal */
  set _children(children: TaskFuture[] | null) {
    this._extra = children;
  }
  /** @internal attempts, arguments and time limits of a task with retries, a timeout or a deadline */
  get _attempts(): AttemptRecord | null {
    const x = this._extra;
    return Array.isArray(x) ? null : x;
  }
  /** @internal */
  set _attempts(attempts: AttemptRecord | null) {
    this._extra = attempts;
  }
  /** @internal the workflow it was made in: a named scope's id, or its outermost block's uid */
  get _workflow(): string | null {
    const p = this._place;
    return p === null || typeof p === "string" ? p : p instanceof TaskFuture ? p._workflow : p.workflow;
  }
  /** @internal the block whose body made it */
  get _parent(): TaskFuture | null {
    const p = this._place;
    return p === null || typeof p === "string" ? null : p instanceof TaskFuture ? p : p.parent;
  }

  /**
   * The result of a DONE task.
   * @throws the failure of a FAILED task, the TaskCancelledError of a cancelled one,
   * or InvalidStateError while the task has not finished.
   */
  result(): T {
    if (this._state === TaskState.DONE) return this._value as T;
    if (isFinal(this._state)) throw (looked(this), this._value);
    throw new InvalidStateError(`${this.uid} (${this.name}) has no result yet: it is ${this._state}`);
  }

  /** The failure (or TaskCancelledError) of a finished task; undefined when DONE or not finished. */
  exception(): unknown {
    if (this._state !== TaskState.FAILED && this._state !== TaskState.CANCELLED) return undefined;
    looked(this);
    return this._value;
  }

  /**
   * Calls `cb(future)` once the task is final: synchronously as it settles, in
   * the order added; if it already is, soon after (in a microtask).
   */
  addDoneCallback(cb: DoneCallback<T>): this {
    if (typeof cb !== "function") throw new TypeError(`addDoneCallback expects a function, got ${typeof cb}`);
    if (isFinal(this._state)) {
      looked(this);
      queueMicrotask(() => this._def.session.callback(this, cb));
    } else {
      const list = this._callbacks;
      this._callbacks = list === null || list === LOOKED ? cb : typeof list === "function" ? [list, cb] : (list.push(cb), list);
    }
    return this;
  }

  /** Removes every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: DoneCallback<T>): number {
    const list = this._callbacks;
    if (list === null || list === LOOKED) return 0;
    const all = typeof list === "function" ? [list] : list;
    const kept = all.filter((x) => x !== cb);
    // Whoever gave a callback has looked, even once it is removed.
    this._callbacks = kept.length === 0 ? LOOKED : kept.length === 1 ? kept[0]! : kept;
    return all.length - kept.length;
  }

  /**
   * Cancels the task: a pending one never runs, a running one has its
   * `taskContext().signal` aborted. Either way the future is CANCELLED at once
   * and its dependents are cancelled too.
   * @returns false when the task had already finished.
   */
  cancel(reason = "cancelled by the user"): boolean {
    return this._def.session.cancel(this, reason);
  }

  // Promise.prototype's, typed here as they always were.
  declare then: <R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ) => Promise<R1 | R2>;
  declare catch: <R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null) => Promise<T | R>;
  declare finally: (onFinally?: (() => void) | null) => Promise<T>;

  get [Symbol.toStringTag](): string {
    return `TaskFuture ${this.uid} (${this.name}) ${this._state}`;
  }

  /**
   * What `JSON.stringify` writes for a future: the task it stands for, not
   * its value (await it for that) nor the engine behind it.
   */
  toJSON(): { readonly task: string; readonly name: string; readonly state: TaskState } {
    return { task: this.uid, name: this.name, state: this._state };
  }

  // console.log(future) (an `await` forgotten, say) shows the task and its outcome, as Node shows a promise's, not the
  // engine's internals. Node hands over its own inspect, so that the outcome is shown with the caller's options.
  [Symbol.for("nodejs.util.inspect.custom")](depth: number, options: { depth?: number | null }, inspect: (value: unknown, options: object) => string): string {
    const head = this[Symbol.toStringTag];
    if (this._state !== TaskState.DONE && this._state !== TaskState.FAILED) return `[${head}]`;
    const inner = { ...options, depth: options.depth == null ? options.depth : options.depth - 1 };
    return `[${head}: ${inspect(this._value, inner)}]`;
  }
}

// `await`, Promise.resolve and Promise.all treat a promise as native only when
// its `constructor` is Promise; `then` then derives plain promises (species),
// so nothing but a task wrapper ever calls TaskFuture's constructor. A getter,
// because reading it is the one step of `await future` (and of `then`,
// Promise.all, returning it from an async function) that script can see: it
// tells the shutdown summary that someone looked at the future's outcome.
Object.defineProperty(TaskFuture.prototype, "constructor", {
  get(this: TaskFuture): PromiseConstructor {
    looked(this);
    return Promise;
  },
  configurable: true,
});

/**
 * @internal In `_callbacks` where there is no callback: someone has awaited
 * the future, chained on it, asked for its outcome or given it a callback, so
 * its failure is not one nobody looked at (see unobserved.ts). Never called.
 */
export const LOOKED: DoneCallback<unknown> = () => undefined;

/** @internal marks `f` as looked at, keeping its callbacks */
export function looked<T>(f: TaskFuture<T>): void {
  if (f._callbacks === null) f._callbacks = LOOKED;
}

/**
 * @internal Where a task was made, in one field (most tasks are made outside
 * blocks and scopes: null): a workflow id alone; the block whose body made it,
 * when it carries that block's workflow (the common case inside blocks); or
 * both, when a scope opened inside the body names another workflow.
 */
export class Place {
  constructor(
    readonly workflow: string | null,
    readonly parent: TaskFuture,
  ) {}
}

/** @internal the `_place` of a task made in `workflow` by the body of `parent` */
export function placeOf(workflow: string | null, parent: TaskFuture | null): TaskFuture | string | Place | null {
  if (parent === null) return workflow;
  return workflow === parent._workflow ? parent : new Place(workflow, parent);
}

/** Dependency keys as a future and a history record keep them: most tasks have one, kept without an array. */
export type DepKeys = number | number[] | null;

/** The keys of {@link DepKeys} as a list. */
export function depKeys(deps: DepKeys): readonly number[] {
  return deps === null ? [] : typeof deps === "number" ? [deps] : deps;
}

/**
 * @internal In a dependents list: a task waiting on this one under a per-edge
 * policy (`settled`, `optional`), which this one's failure or cancellation releases instead of ending.
 */
export class Lenient {
  constructor(readonly dependent: TaskFuture) {}
}

/** @internal the task an entry of a dependents list stands for */
export function dependentOf(x: TaskFuture | Lenient): TaskFuture {
  return x instanceof Lenient ? x.dependent : x;
}

/** The uid for a key: `task.000001` for 1, `block.000002` for -2. */
export function depUid(key: number): string {
  return key < 0 ? `block.${String(-key).padStart(UID_DIGITS, "0")}` : `task.${String(key).padStart(UID_DIGITS, "0")}`;
}
