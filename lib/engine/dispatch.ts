import type { ReportState } from "../contract/backend.js";
import { TaskRun } from "../contract/run.js";
import { TaskState } from "../contract/states.js";
import { substitute } from "./args.js";
import type { TaskFuture } from "./future.js";
import type { Logger } from "../contract/log.js";
import type { Lifecycle } from "./settle.js";
import { WorkList } from "./worklist.js";

/** What dispatch works with: the session's parts (the Session is one). */
export interface DispatchParts {
  readonly log: Logger;
  readonly lifecycle: Lifecycle;
}

/**
 * Ready -> backend. A task whose last dependency finished is queued here and
 * dispatched in the same microtask flush: one microtask per burst of ready
 * tasks, never a timer, never a poll. Tasks that complete synchronously make
 * their dependents ready inside the same flush, so a chain runs in a loop, not
 * a recursion. Blocks go the same way, to the engine's BlockRunner.
 */
export class Dispatcher {
  readonly #session: DispatchParts;
  readonly #ready = new WorkList<TaskFuture>((f) => {
    if (f._state === TaskState.PENDING) this.#dispatch(f);
  });
  #scheduled = false;

  constructor(session: DispatchParts) {
    this.#session = session;
  }

  ready(f: TaskFuture): void {
    this.#ready.push(f);
    if (!this.#scheduled && !this.#ready.draining) {
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
    this.#ready.drain();
  };

  #dispatch(f: TaskFuture): void {
    const given = f._args!;
    const args = !Array.isArray(given) ? [given._value] : f._deps === null ? given : substitute(given);
    f._args = null;
    const run = new TaskRun(f, args, 1);
    f._run = run;
    const backend = f._def.backend;
    const log = this.#session.log;
    if (log.debugOn) log.debug(f.uid, `${f.name}: arguments resolved, dispatched to ${backend.name}`);
    try {
      backend.submit(run);
    } catch (error) {
      this.#session.lifecycle.finish(f, TaskState.FAILED, error);
    }
  }
}
