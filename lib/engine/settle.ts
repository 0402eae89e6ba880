import type { RunInfo } from "../contract/backend.js";
import { DependencyFailureError, TaskCancelledError, describe } from "../contract/errors.js";
import type { Logger } from "../contract/log.js";
import { emitEnded, emitStarted, type Reused } from "./emit.js";
import { LOOKED, Lenient, looked, type HeldCallback, type TaskFuture } from "./future.js";
import type { History } from "./history.js";
import type { LiveTasks } from "./live.js";
import type { Observers } from "./observe.js";
import { TaskState, isFinal, type FinalState } from "../contract/states.js";
import type { Unobserved } from "./unobserved.js";
import { WorkList } from "./worklist.js";
import type { StallWatch } from "./stall.js";
import type { Contract } from "./contract.js";

/** What the lifecycle works on: the session's parts (the Session is one). */
export interface LifecycleParts {
  readonly uid: string;
  readonly log: Logger;
  readonly observers: Observers;
  readonly unobserved: Unobserved;
  readonly live: LiveTasks;
  readonly history: History;
  readonly dispatcher: { ready(f: TaskFuture): void };
  readonly memo: { ended(f: TaskFuture): void; wholeRun: boolean };
  /** Starts a running attempt's time limits; drops a final task's limits and retry delay. */
  readonly attempts: { started(f: TaskFuture, c: Contract): void; ended(f: TaskFuture): void };
  /** stallTimeout and warnAfter: told of starts and completions. */
  readonly watch: StallWatch;
  callback(f: TaskFuture, cb: HeldCallback): void;
  /** The session's clock (performance.now(), shared by a synchronous burst). */
  now(): number;
}

const ignore = (): void => {};
// The engine's own handler is not someone looking: `then` reads `constructor`, which marks the future looked at.
const markHandled = (f: TaskFuture): void => {
  const callbacks = f._callbacks;
  void Promise.prototype.then.call(f, undefined, ignore);
  f._callbacks = callbacks;
};
// Rejects whatever it resolves (a future keeps only its resolve function).
const rejecting = (error: unknown): { then(resolve: unknown, reject: (e: unknown) => void): void } => ({ then: (_, reject) => reject(error) });

/**
 * The one place where a task changes state. Every transition passes through
 * `started` or `finish`, so this is where lifecycle events are emitted (one
 * branch each while nobody listens).
 *
 * `finish` sets the final state at once; the consequences (releasing or
 * failing dependents, cancelling a block's children, done-callbacks, awaiting
 * promises) run from a work list, so a failure cascading down a chain of any
 * length uses constant stack.
 */
export class Lifecycle {
  readonly #session: LifecycleParts;
  readonly #pending = new WorkList<TaskFuture>((f) => {
    if (f._def.memo !== null) this.#session.memo.ended(f);
    this.#propagate(f);
    this.#notify(f);
  });

  constructor(session: LifecycleParts) {
    this.#session = session;
  }

  /**
   * PENDING -> RUNNING: the backend has started the body, on `info.where`. A
   * later report of a higher `info.delivery` is a queue job handed to another
   * worker (its first died). `limits`: the contract whose time limits start
   * with the attempt.
   */
  started(f: TaskFuture, info?: RunInfo, limits?: Contract): void {
    const session = this.#session;
    const run = f._run;
    if (f._state !== TaskState.PENDING) {
      if (run === null || info?.delivery === undefined || info.delivery <= (run.info?.delivery ?? 1)) return;
      run.info = info;
      // The body starts again from its beginning: so does its attempt's timeout.
      if (limits !== undefined && f._state === TaskState.RUNNING) session.attempts.started(f, limits);
      if (session.watch.stallMs !== undefined) session.watch.lastProgress = session.now(); // a report restarts the stall clock
      if (session.observers.active) emitStarted(session.observers, session.uid, f, "TaskRedelivered", info.where, info.delivery);
      session.log.info(f.uid, `${f.name}: redelivered${info.where === undefined ? "" : ` to ${info.where}`} (delivery ${info.delivery}): its worker was lost`, f._workflow ?? undefined);
      return;
    }
    f._state = TaskState.RUNNING;
    const now = (f._started = session.now());
    const watch = session.watch;
    if (watch.stallMs !== undefined) watch.lastProgress = now;
    const warnAfter = f._def.options.warnAfter;
    if (warnAfter !== undefined) watch.started(f, warnAfter);
    if (run !== null && info !== undefined) run.info = info;
    // Before the event: a listener that cancels the task ends an attempt whose start is already recorded.
    if (limits !== undefined) session.attempts.started(f, limits);
    if (session.observers.active) {
      emitStarted(session.observers, session.uid, f, "TaskStarted", info?.where);
      if (info?.delivery !== undefined && info.delivery > 1) emitStarted(session.observers, session.uid, f, "TaskRedelivered", info.where, info.delivery);
    }
    const log = session.log;
    if (log.debugOn) log.debug(f.uid, `${f.name}: running on ${f._def.backend.name}${info?.where === undefined ? "" : ` (${info.where})`}`, f._workflow ?? undefined);
  }

  /**
   * Moves `f` to a final state with its result or error. A running task that
   * is cancelled has its signal aborted and its backend told.
   * @returns false when `f` was already final.
   */
  finish(f: TaskFuture, state: FinalState, value: unknown, reused?: Reused, ranUntil?: number): boolean {
    if (isFinal(f._state)) return false;
    const run = f._run;
    f._state = state;
    f._value = value;
    f._run = null;
    f._args = null;
    const session = this.#session;
    if (f._attempts !== null) session.attempts.ended(f);
    session.live.delete(f);
    if (session.watch.stallMs !== undefined) session.watch.lastProgress = session.now();
    if (f._def.options.warnAfter !== undefined) session.watch.ended(f);
    session.history.record(f, state);
    if (session.observers.active) emitEnded(session.observers, session.uid, f, state, value, session.now(), run?.attempt ?? (f._attempts?.ran || 1), reused, ranUntil);
    if (state !== TaskState.DONE) {
      if (state === TaskState.FAILED) session.unobserved.failed(f);
      session.memo.wholeRun = false;
    }
    if (session.log.debugOn) {
      session.log.debug(f.uid, `${f.name}: ${state}${state === TaskState.DONE ? "" : ` (${describe(value)})`}`, f._workflow ?? undefined);
    }
    if (state === TaskState.CANCELLED && run !== null) {
      run.abort(value);
      const backend = f._def.backend;
      try {
        backend.cancel(run);
      } catch (error) {
        session.log.error(f.uid, `backend "${backend.name}" failed to cancel: ${describe(error)}`, f._workflow ?? undefined);
      }
    }
    this.#pending.push(f);
    this.#pending.drain();
    return true;
  }

  /** `f` was registered with a dependency that had already failed or been cancelled. */
  dependencyEnded(f: TaskFuture, d: TaskFuture): void {
    looked(d);
    this.#release(d, f);
  }

  #propagate(f: TaskFuture): void {
    const dependents = f._dependents;
    const children = f._children;
    f._dependents = null;
    f._children = null;
    if (dependents !== null) {
      for (let i = 0; i < dependents.length; i++) {
        const x = dependents[i]!;
        if (x instanceof Lenient) this.#releaseLenient(x.dependent);
        else this.#release(f, x);
      }
    }
    if (children !== null && f._state === TaskState.CANCELLED) {
      for (const c of children) this.finish(c, TaskState.CANCELLED, blockCancelled(c, f));
    }
  }

  /** Dependency `d` of `f` has finished: one step closer to ready, or `f` can never run. */
  #release(d: TaskFuture, f: TaskFuture): void {
    if (f._state !== TaskState.PENDING) return;
    if (d._state === TaskState.DONE) {
      if (--f._waiting === 0) this.#session.dispatcher.ready(f);
    } else if (d._state === TaskState.FAILED) {
      this.finish(f, TaskState.FAILED, new DependencyFailureError(f, d, d._value));
    } else {
      this.finish(f, TaskState.CANCELLED, new TaskCancelledError(f, `dependency ${d.uid} (${d.name}) was cancelled`));
    }
  }

  /** A dependency under a per-edge policy has finished, whichever way: one step closer to ready. */
  #releaseLenient(f: TaskFuture): void {
    if (f._state === TaskState.PENDING && --f._waiting === 0) this.#session.dispatcher.ready(f);
  }

  #notify(f: TaskFuture): void {
    const callbacks = f._callbacks;
    f._callbacks = null;
    if (typeof callbacks === "function") {
      if (callbacks !== LOOKED) this.#session.callback(f, callbacks);
    }
    else if (callbacks !== null) for (const cb of callbacks) this.#session.callback(f, cb);
    const resolve = f._resolve;
    f._resolve = null;
    if (resolve === null) return;
    if (f._state === TaskState.DONE) resolve(f._value);
    else {
      // A failure nobody awaits is never an unhandled rejection: it shows in the log.
      markHandled(f);
      resolve(rejecting(f._value));
    }
  }
}

/** What a task made by a block's body is cancelled with when the block is. */
export function blockCancelled(f: TaskFuture, block: TaskFuture): TaskCancelledError {
  return new TaskCancelledError(f, `its block ${block.uid} (${block.name}) was cancelled`);
}
