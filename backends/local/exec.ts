import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type PQueue from "p-queue";
import { runInContext } from "../../lib/contract/context.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { Command } from "../../lib/contract/task.js";
import type { BackendEnvironment, ReportState } from "../../lib/contract/backend.js";
import { checkCommand, killGroup, runCommand } from "../process/command.js";

/**
 * Runs executable tasks as child processes of this process, at most
 * `maxProcesses` at a time: asks the task's function for the command, runs
 * it, and reports the stdout or the ExecutableError. Shared by every backend
 * that runs processes on this machine.
 */
export class ProcessRunner {
  readonly #queue: PQueue;
  readonly #report: ReportState;
  readonly #env: BackendEnvironment;
  readonly #children = new Set<ChildProcess>();

  private constructor(queue: PQueue, report: ReportState, env: BackendEnvironment) {
    this.#queue = queue;
    this.#report = report;
    this.#env = env;
  }

  // p-queue is loaded here, not at import, to keep `import "asyncflow"` light.
  static async create(maxProcesses: number, report: ReportState, env: BackendEnvironment): Promise<ProcessRunner> {
    const { default: Queue } = await import("p-queue");
    return new ProcessRunner(new Queue({ concurrency: maxProcesses }), report, env);
  }

  submit(run: TaskRun): void {
    // A run cancelled while queued is dropped by p-queue (the add rejects with an AbortError).
    this.#queue.add(() => this.#run(run), { signal: run.signal }).catch(() => undefined);
  }

  /** Kills every process still running and drops the queued ones. */
  shutdown(): void {
    this.#queue.clear();
    for (const child of this.#children) killGroup(child, "SIGKILL");
  }

  async #run(run: TaskRun): Promise<void> {
    const report = this.#report;
    report(run, "RUNNING");
    try {
      const command = await commandOf(run);
      if (run.aborted) return;
      const opts = run.options;
      const stdout = await runCommand(run, command, {
        cwd: opts.cwd ?? this.#env.workDir,
        env: opts.env,
        timeout: opts.timeout,
        captureDir: opts.captureStdio === true ? join(this.#env.workDir, this.#env.sessionUid) : undefined,
        signal: run.signal,
        children: this.#children,
      });
      report(run, "DONE", stdout);
    } catch (error) {
      report(run, "FAILED", error);
    }
  }
}

/** The command an executable task's function returns for this run (called in its context), checked. */
export async function commandOf(run: TaskRun): Promise<Command> {
  return checkCommand(run, await runInContext(run, run.fn as (...a: unknown[]) => unknown, run.args));
}
