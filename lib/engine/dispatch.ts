import type { ReportState } from "../contract/backend.js";
import { substitute } from "./args.js";
import { isThenable, runInContext } from "../contract/context.js";
import { TaskFuture } from "./future.js";
import { TaskRun } from "../contract/run.js";
import type { Session } from "./session.js";
import { TaskState } from "../contract/states.js";

/**
 * Ready -> backend. A task whose last dependency finished is queued here and
 * dispatched in the same microtask flush: one microtask per burst of ready
 * tasks, never a timer, never a poll. Tasks that complete synchronously make
 * their dependents ready inside the same flush, so a chain runs in a loop, not
 * a recursion.
 */
export class Dispatcher {
  readonly #session: Session;
  readonly #ready: (TaskFuture | undefined)[] = [];
  #scheduled = false;
  #flushing = false;

  constructor(session: Session) {
    this.#session = session;
  }

  ready(f: TaskFuture): void {
    this.#ready.push(f);
    if (!this.#scheduled && !this.#flushing) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** The callback every backend reports through. */
  readonly report: ReportState = (run, state, value) => {
    const f = run.future as TaskFuture; // every run is made by #dispatch, of a TaskFuture
    if (f._run !== run) return; // cancelled (or superseded): a late report is dropped
    const lifecycle = this.#session.lifecycle;
    if (state === TaskState.RUNNING) lifecycle.started(f);
    else lifecycle.finish(f, state, value);
  };

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#flushing = true;
    const ready = this.#ready;
    try {
      for (let i = 0; i < ready.length; i++) {
        const f = ready[i]!;
        ready[i] = undefined;
        if (f._state === TaskState.PENDING) this.#dispatch(f);
      }
    } finally {
      ready.length = 0;
      this.#flushing = false;
    }
  };

  #dispatch(f: TaskFuture): void {
    const given = f._args!;
    const args = given instanceof TaskFuture ? [given._value] : f._deps === null ? given : substitute(given);
    f._args = null;
    const run = new TaskRun(f, args, 1);
    f._run = run;
    const backend = f._def.backend;
    const log = this.#session.log;
    if (log.debugOn) log.debug(f.uid, `${f.name}: arguments resolved, dispatched to ${backend?.name ?? "the engine"}`);
    try {
      if (backend === null) this.#runBlock(run);
      else backend.submit(run);
    } catch (error) {
      this.#session.lifecycle.finish(f, TaskState.FAILED, error);
    }
  }

  // Blocks only compose tasks, so they run here, in the engine, on every backend
  // and in dry runs alike.
  #runBlock(run: TaskRun): void {
    const report = this.report;
    report(run, TaskState.RUNNING);
    const out = runInContext(run, run.fn as (...a: unknown[]) => unknown, run.args);
    if (isThenable(out) && !(out instanceof TaskFuture)) out.then((v) => this.#blockReturned(run, v), (e: unknown) => report(run, TaskState.FAILED, e));
    else this.#blockReturned(run, out);
  }

  #blockReturned(run: TaskRun, value: unknown): void {
    if (!(value instanceof TaskFuture)) return this.report(run, TaskState.DONE, value);
    // A block that returns a future (rather than awaiting it) ends as that future ends.
    value.addDoneCallback((inner) => {
      if (inner.state === TaskState.DONE) this.report(run, TaskState.DONE, inner._value);
      else if (inner.state === TaskState.FAILED) this.report(run, TaskState.FAILED, inner._value);
      else this.#session.cancel(run.future as TaskFuture, `the future it returned, ${inner.uid} (${inner.name}), was cancelled`);
    });
  }
}
