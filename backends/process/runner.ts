import type PQueue from "p-queue";
import type { TaskRun } from "../../lib/contract/run.js";
import type { BackendEnvironment, ReportState, RunDescription } from "../../lib/contract/backend.js";
import type { Logger } from "../../lib/contract/log.js";
import { commandOf, commandOptions, killAll, runCommand } from "./command.js";
import { WatchedChildren } from "./watchdog.js";

/**
 * Runs executable tasks as child processes of this process, at most
 * `maxProcesses` at a time: asks the task's function for the command, runs
 * it, and reports the stdout or the ExecutableError. Shared by every backend
 * that runs processes on this machine (local, threads).
 */
export class ProcessRunner {
  readonly #queue: PQueue;
  readonly #report: ReportState;
  readonly #at: { readonly workDir: string; readonly session: string };
  readonly #log: Logger;
  // Watched: if this process dies with commands running (a crash, process.exit, SIGKILL), they die too.
  readonly #children = new WatchedChildren();

  private constructor(queue: PQueue, report: ReportState, env: BackendEnvironment) {
    this.#queue = queue;
    this.#report = report;
    this.#at = { workDir: env.workDir, session: env.sessionUid };
    this.#log = env.log;
  }

  // p-queue is loaded here, not at import, to keep `import "asyncflow"` light.
  static async create(maxProcesses: number, report: ReportState, env: BackendEnvironment): Promise<ProcessRunner> {
    const { default: Queue } = await import("p-queue");
    return new ProcessRunner(new Queue({ concurrency: maxProcesses }), report, env);
  }

  submit(run: TaskRun): void {
    // A run cancelled while queued is skipped when its turn comes (see LocalBackend.submit).
    this.#queue.add(async () => run.aborted || this.#run(run)).catch(() => undefined);
  }

  /** A run submitted here and not started waits for one of `maxProcesses`. */
  describe(): RunDescription {
    return queuedIn(this.#queue, "processes");
  }

  /** Kills every process still running and drops the queued ones. */
  shutdown(): void {
    this.#queue.clear();
    killAll(this.#children);
    this.#children.close();
  }

  async #run(run: TaskRun): Promise<void> {
    const report = this.#report;
    try {
      const command = await commandOf(run);
      if (run.aborted) return;
      if (this.#log.debugOn) this.#log.debug(run.uid, `${run.name}: command ${JSON.stringify(command)}`, run.workflowId);
      const onSpawn = (pid: number | undefined): void => {
        if (pid !== undefined) report(run, "RUNNING", undefined, { where: `process ${pid}` });
      };
      const options = { ...commandOptions(run.options, this.#at, run.signal, this.#children, run.trace), onSpawn };
      report(run, "DONE", await runCommand(run, command, options));
    } catch (error) {
      report(run, "FAILED", error);
    }
  }
}

/** A run waiting in a p-queue: how many wait (p-queue keeps no positions) and how many run at once. */
export function queuedIn(queue: PQueue, where: string): RunDescription {
  return { reason: "QUEUED", length: queue.size, capacity: queue.concurrency, where };
}
