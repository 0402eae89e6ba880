import type { ReportState } from "../contract/backend.js";
import { TaskRun } from "../contract/run.js";
import { TaskKind, TaskState } from "../contract/states.js";
import { substitute } from "./args.js";
import type { TaskFuture } from "./future.js";
import type { Logger } from "../contract/log.js";
import type { Lifecycle } from "./settle.js";
import type { Memo } from "./memo.js";
import { WorkList } from "./worklist.js";
import { emitStep } from "./emit.js";
import type { Observers } from "./observe.js";
import type { SpanBridge } from "./otel.js";
import { InputValidationError, OutputValidationError } from "../contract/contract-errors.js";
import type { Checked } from "../contract/schema.js";
import { AttemptState, type Attempts } from "./attempts.js";
import { checkInputs, checkOutput, exitFailure, whileValidating, type Contract } from "./contract.js";

/** What dispatch works with: the session's parts (the Session is one). */
export interface DispatchParts {
  readonly uid: string;
  readonly log: Logger;
  readonly lifecycle: Lifecycle;
  readonly memo: Memo;
  readonly observers: Observers;
  readonly spans: SpanBridge | null;
  readonly attempts: Attempts;
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
    const session = this.#session;
    // A retry's next attempt is made ready again: it was resolved once.
    if (session.observers.active && f._attempts === null) emitStep(session.observers, session.uid, f, "TaskResolved");
    this.#ready.push(f);
    if (!this.#scheduled && !this.#ready.draining) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** The callback every backend reports through. */
  readonly report: ReportState = (run, state, value, info) => {
    const f = run.future as TaskFuture; // every run is made by #dispatch, of a TaskFuture
    if (f._run !== run) return; // cancelled, timed out (or superseded): a late report is dropped
    const c = f._def.contract;
    if (c === null) {
      if (state === TaskState.RUNNING) this.#session.lifecycle.started(f, info);
      else if (state === TaskState.DONE) this.#succeeded(f, run, value);
      // exit(label) with no exit codes declared is the caller's mistake, named as such (not the ExitRequest it throws)
      else this.#session.lifecycle.finish(f, state, state === TaskState.FAILED ? exitFailure(f, null, value, f._def.kind === TaskKind.BLOCK) : value);
    } else if (state === TaskState.RUNNING) {
      this.#session.lifecycle.started(f, info, c.attempts ? c : undefined);
    } else if (state === TaskState.DONE) {
      this.#done(f, run, c, value);
    } else {
      const error = exitFailure(f, c.exitCodes, value, f._def.kind === TaskKind.BLOCK);
      if (!this.#session.attempts.failed(f, c, run, error)) this.#session.lifecycle.finish(f, TaskState.FAILED, error);
    }
  };

  #done(f: TaskFuture, run: TaskRun, c: Contract, value: unknown): void {
    // The body returned within its limits: what follows (an async output schema, the checkpoint's write) is not its time.
    if (f._attempts !== null) this.#session.attempts.ended(f);
    if (c.output === undefined) return this.#succeeded(f, run, value);
    const checked = checkOutput(f, c.output, value);
    if (!(checked instanceof Promise)) return this.#checkedOutput(f, run, checked);
    checked.then(
      (r) => f._run === run && this.#checkedOutput(f, run, r),
      (e: unknown) => f._run === run && this.#session.lifecycle.finish(f, TaskState.FAILED, e),
    );
  }

  #checkedOutput(f: TaskFuture, run: TaskRun, r: Checked | OutputValidationError): void {
    if (r instanceof OutputValidationError) this.#session.lifecycle.finish(f, TaskState.FAILED, r);
    else if (r.ok) this.#succeeded(f, run, r.value);
  }

  /** DONE with its (validated) result: written to the checkpoint first when there is one. */
  #succeeded(f: TaskFuture, run: TaskRun, value: unknown): void {
    if (f._def.memo === null || !this.#session.memo.completed(f, run, value)) this.#session.lifecycle.finish(f, TaskState.DONE, value);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#ready.drain();
  };

  #dispatch(f: TaskFuture): void {
    const retry = f._attempts;
    if (retry !== null) return this.#submit(f, retry.args, retry.attempt);
    const given = f._args!;
    // A call without arguments waited with the shared empty array: its run gets one of its own, which a backend may write.
    const args = !Array.isArray(given) ? [given._value] : given.length === 0 ? [] : f._deps === null ? given : substitute(given);
    f._args = null;
    const c = f._def.contract;
    // Arguments without futures were validated at the call (session.ts).
    if (c?.inputs === undefined || f._deps === null) return this.#submit(f, args, 1);
    const checked = checkInputs(f, c.inputs, args);
    if (!(checked instanceof Promise)) return this.#validated(f, checked);
    f._args = args; // held while an asynchronous schema validates
    whileValidating(f, checked).then(
      (r) => this.#validated(f, r),
      (e: unknown) => this.#session.lifecycle.finish(f, TaskState.FAILED, e),
    );
  }

  /** Arguments checked against `inputs` at ready time: submitted, or the task fails before any backend sees it. */
  #validated(f: TaskFuture, r: unknown[] | InputValidationError): void {
    if (f._state !== TaskState.PENDING) return; // cancelled while an asynchronous schema ran
    if (r instanceof InputValidationError) this.#session.lifecycle.finish(f, TaskState.FAILED, r);
    else this.#submit(f, r, 1);
  }

  /** Validated `args`, first attempt: through the memo (a cached or checkpointed result, or a running call to share), else the backend. */
  dispatchWith(f: TaskFuture, args: unknown[]): void {
    this.#submit(f, args, 1);
  }

  #submit(f: TaskFuture, args: unknown[], attempt: number): void {
    if (attempt === 1 && f._def.memo !== null && this.#session.memo.intercept(f, args)) return;
    if (attempt === 1 && f._def.contract?.attempts === true) f._attempts = new AttemptState(f, args);
    const run = new TaskRun(f, args, attempt);
    f._run = run;
    const session = this.#session;
    const log = session.log;
    if (log.debugOn) log.debug(f.uid, `${f.name}: arguments resolved, dispatched to ${f._def.backend.name}`, f._workflow ?? undefined);
    if (session.observers.active) {
      emitStep(session.observers, session.uid, f, "TaskSubmitted");
      const spans = session.spans;
      if (spans !== null) {
        // The task's span travels with the run, and is the active one for a body started here.
        run.trace = spans.carrier(f.uid);
        return spans.within(f.uid, () => this.#handOver(f, run));
      }
    }
    this.#handOver(f, run);
  }

  #handOver(f: TaskFuture, run: TaskRun): void {
    try {
      f._def.backend.submit(run);
    } catch (error) {
      this.#session.lifecycle.finish(f, TaskState.FAILED, error);
    }
  }
}
