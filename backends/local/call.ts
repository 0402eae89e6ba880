import type { ReportState, RunInfo } from "../../lib/contract/backend.js";
import { bodyEnded, isThenable, runTracked } from "../../lib/contract/context.js";
import type { TaskRun } from "../../lib/contract/run.js";

const ON_THE_LOOP: RunInfo = { where: "local" };

/**
 * Runs a function task's body on this event loop, in its task context, and
 * reports RUNNING then DONE or FAILED. Returns a promise only when the body
 * is async, so that synchronous bodies cost no promise at all.
 */
export function callFunction(run: TaskRun, report: ReportState): Promise<void> | undefined {
  report(run, "RUNNING", undefined, ON_THE_LOOP);
  let out: unknown;
  try {
    out = runTracked(run, run.fn as (...args: unknown[]) => unknown, run.args);
  } catch (error) {
    report(run, "FAILED", error);
    return undefined;
  }
  if (!isThenable(out)) {
    report(run, "DONE", out);
    return undefined;
  }
  return Promise.resolve(out).then(
    (value) => {
      bodyEnded();
      report(run, "DONE", value);
    },
    (error: unknown) => {
      bodyEnded();
      report(run, "FAILED", error);
    },
  );
}
