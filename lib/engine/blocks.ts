import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState } from "../contract/backend.js";
import { isThenable, runInContext } from "../contract/context.js";
import type { TaskRun } from "../contract/run.js";
import { TaskState } from "../contract/states.js";
import { TaskFuture } from "./future.js";

/**
 * Runs blocks, in the engine: blocks only compose tasks, so they run here on
 * every backend and in dry runs alike. It is a backend like any other to
 * dispatch and lifecycle, so that neither has a branch for blocks.
 */
export class BlockRunner implements ExecutionBackend {
  readonly name = "engine";
  readonly #attachment = new Attachment(this.name);
  readonly #cancel: (f: TaskFuture, reason: string) => void;

  constructor(cancel: (f: TaskFuture, reason: string) => void) {
    this.#cancel = cancel;
  }

  attach(report: ReportState, env: BackendEnvironment): void {
    this.#attachment.set(report, env);
  }

  submit(run: TaskRun): void {
    const report = this.#attachment.report;
    report(run, TaskState.RUNNING);
    let out: unknown;
    try {
      out = runInContext(run, run.fn as (...a: unknown[]) => unknown, run.args);
    } catch (error) {
      return report(run, TaskState.FAILED, error);
    }
    if (isThenable(out) && !(out instanceof TaskFuture)) out.then((v) => this.#returned(run, v), (e: unknown) => report(run, TaskState.FAILED, e));
    else this.#returned(run, out);
  }

  // The block's children are cancelled with it by the lifecycle; its body may listen to its signal.
  cancel(): void {}

  async shutdown(): Promise<void> {}

  #returned(run: TaskRun, value: unknown): void {
    const report = this.#attachment.report;
    if (!(value instanceof TaskFuture)) return report(run, TaskState.DONE, value);
    // A block that returns a future (rather than awaiting it) ends as that future ends.
    value.addDoneCallback((inner) => {
      if (inner.state === TaskState.DONE) report(run, TaskState.DONE, inner._value);
      else if (inner.state === TaskState.FAILED) report(run, TaskState.FAILED, inner._value);
      else this.#cancel(run.future as TaskFuture, `the future it returned, ${inner.uid} (${inner.name}), was cancelled`);
    });
  }
}
