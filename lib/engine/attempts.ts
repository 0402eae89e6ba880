/**
 * Retries and time limits, decided here for every backend (backends only run
 * attempts): each attempt is a new TaskRun with `attempt + 1`; a timed-out
 * attempt is cancelled through its backend's `cancel(run)` and its late result
 * dropped; delays and limits share one timer (`timers.ts`).
 */
import { describe } from "../contract/errors.js";
import { TaskTimeoutError } from "../contract/contract-errors.js";
import type { Logger } from "../contract/log.js";
import type { TaskRun } from "../contract/run.js";
import { TaskState } from "../contract/states.js";
import type { Contract } from "./contract.js";
import { emitRetry } from "./emit.js";
import type { AttemptRecord, TaskFuture } from "./future.js";
import type { Observers } from "./observe.js";
import { retryDelayMs, retryable } from "./retry.js";
import { TimerEntry, Timers } from "./timers.js";

/** A task's deadline, in the timers beside its attempt limit (the state itself). */
class Deadline extends TimerEntry {
  constructor(readonly state: AttemptState) {
    super();
  }
}

/**
 * A task's attempts so far: made at its first dispatch, only for tasks with
 * retries, a timeout or a deadline. It is its own attempt limit (the running
 * attempt's timeout, or the delay before the next): one object a task, not two.
 */
export class AttemptState extends TimerEntry implements AttemptRecord {
  attempt = 1;
  ran = 0;
  firstStarted = 0;
  readonly args: unknown[];
  readonly future: TaskFuture;
  lastError: unknown = undefined;
  /** performance.now() when the last attempt failed: a task backing off has been PENDING since. */
  failedAt = 0;
  deadlineLimit: Deadline | null = null;

  constructor(future: TaskFuture, args: unknown[]) {
    super();
    this.future = future;
    this.args = args;
  }

  get attemptLimit(): TimerEntry {
    return this;
  }
}

/** What attempts need of the session. */
export interface AttemptParts {
  readonly uid: string;
  readonly log: Logger;
  /** The stall clock: a failed attempt is a report, and restarts it. */
  readonly watch: { readonly stallMs: number | undefined; lastProgress: number };
  now(): number;
  readonly observers: Observers;
  readonly dispatcher: { ready(f: TaskFuture): void };
  readonly lifecycle: { finish(f: TaskFuture, state: typeof TaskState.FAILED, value: unknown): boolean };
}

export class Attempts {
  readonly #session: AttemptParts;
  readonly #timers = new Timers<AttemptState | Deadline>((limit) => this.#due(limit));

  constructor(session: AttemptParts) {
    this.#session = session;
  }

  /** An attempt of `f` has started: its time limits start now. */
  started(f: TaskFuture, c: Contract): void {
    const state = stateOf(f)!;
    state.ran = state.attempt;
    if (state.firstStarted === 0) state.firstStarted = f._started;
    if (c.timeout !== undefined) this.#timers.add(state, c.timeout);
    if (c.deadline !== undefined && state.deadlineLimit === null) {
      state.deadlineLimit = new Deadline(state);
      this.#timers.add(state.deadlineLimit, c.deadline);
    }
  }

  /**
   * The attempt `run` of `f` failed with `error`: schedules the next attempt
   * and returns true, or returns false when the task fails with it.
   */
  failed(f: TaskFuture, c: Contract, run: TaskRun, error: unknown): boolean {
    const state = stateOf(f);
    if (state === null) return false;
    this.#timers.remove(state);
    state.lastError = error;
    const now = (state.failedAt = this.#session.now());
    if (this.#session.watch.stallMs !== undefined) this.#session.watch.lastProgress = now;
    if (run.attempt > c.retries || !retryable(error, c, f, this.#session.log)) return false;
    const delay = retryDelayMs(c, run.attempt);
    f._run = null;
    f._state = TaskState.PENDING;
    state.attempt = run.attempt + 1;
    // Armed before TaskRetry: a listener that cancels the task or shuts the engine down disarms it.
    this.#timers.add(state, delay);
    this.#retrying(f, state.attempt, delay, error);
    return true;
  }

  /** `f` is final: its limits and delays are dropped. */
  ended(f: TaskFuture): void {
    const state = stateOf(f)!;
    this.#timers.remove(state);
    if (state.deadlineLimit !== null) this.#timers.remove(state.deadlineLimit);
  }

  /** Drops every limit and delay (shutdown: the tasks are cancelled). */
  clear(): void {
    this.#timers.clear();
  }

  // The one place a retry is announced: a log line and TaskRetry (for the attempt that failed).
  #retrying(f: TaskFuture, attempt: number, delayMs: number, error: unknown): void {
    const session = this.#session;
    if (session.observers.active) emitRetry(session.observers, session.uid, f, attempt - 1, delayMs, error);
    session.log.info(f.uid, `${f.name}: attempt ${attempt - 1} failed (${describe(error)}); attempt ${attempt} in ${Math.round(delayMs)} ms`, f._workflow ?? undefined);
  }

  #due(limit: AttemptState | Deadline): void {
    if (limit instanceof Deadline) {
      const { state } = limit;
      const f = state.future;
      return this.#stop(f, new TaskTimeoutError(f, { what: "deadline", ms: f._def.contract!.deadline!, attempt: state.ran, cause: state.lastError }));
    }
    // The attempt limit: the running attempt's timeout, or the end of the delay before the next attempt.
    const f = limit.future;
    if (f._run !== null) {
      const c = f._def.contract!;
      const run = f._run;
      const error = new TaskTimeoutError(f, { what: "attempt", ms: c.timeout!, attempt: run.attempt });
      this.#cancelRun(f, run, error);
      if (!this.failed(f, c, run, error)) this.#session.lifecycle.finish(f, TaskState.FAILED, error);
    } else if (f._state === TaskState.PENDING) {
      this.#session.dispatcher.ready(f); // the retry delay is over
    }
  }

  /** Ends `f` with `error`, cancelling its running attempt. */
  #stop(f: TaskFuture, error: unknown): void {
    if (f._run !== null) this.#cancelRun(f, f._run, error);
    this.#session.lifecycle.finish(f, TaskState.FAILED, error);
  }

  // Through the backend's cancel path, as a user's cancel: the body's signal is
  // aborted (with the timeout as its reason) and its late report is dropped.
  #cancelRun(f: TaskFuture, run: TaskRun, reason: unknown): void {
    f._run = null;
    run.abort(reason);
    const backend = f._def.backend;
    try {
      backend.cancel(run);
    } catch (error) {
      this.#session.log.error(f.uid, `backend "${backend.name}" failed to cancel a timed-out attempt: ${describe(error)}`, f._workflow ?? undefined);
    }
  }
}

/** A task waiting out its retry delay (`inspect()`'s BACKING_OFF). */
export interface Backoff {
  /** The attempt to come, and how many it may make in all (retries + 1). */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** performance.now() when it failed last, and when the next attempt is due. */
  readonly since: number;
  readonly due: number;
  readonly lastError: unknown;
}

/** How `f` backs off before its next attempt; null when it does not (it runs, waits on inputs, or has no retries). */
export function backoff(f: TaskFuture): Backoff | null {
  const state = stateOf(f);
  // Without a run, the attempt limit in the heap is the retry delay (with a run, it is the attempt's timeout).
  if (state === null || f._run !== null || f._state !== TaskState.PENDING || !state.attemptLimit.scheduled) return null;
  return { attempt: state.attempt, maxAttempts: f._def.contract!.retries + 1, since: state.failedAt, due: state.attemptLimit.due, lastError: state.lastError };
}

// Every AttemptRecord is an AttemptState: the dispatcher makes them, with this module's class.
const stateOf = (f: TaskFuture): AttemptState | null => f._attempts as AttemptState | null;
