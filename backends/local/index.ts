import type PQueue from "p-queue";
import type { z } from "zod";
import { parseBackendOptions } from "../../lib/contract/options.js";
import type { TaskRun } from "../../lib/contract/run.js";
import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState, type RunDescription } from "../../lib/contract/backend.js";
import { callFunction } from "./call.js";
import { ProcessRunner, queuedIn } from "../process/runner.js";
import type { localBackendOptionsSchema } from "./options.js";

/** Options of a {@link LocalBackend}; documented, with their defaults, in `options.ts`. */
export type LocalBackendOptions = z.input<typeof localBackendOptionsSchema>;

/**
 * Runs function tasks on this event loop (under an optional concurrency
 * limit) and executable tasks as child processes. The default backend.
 */
export class LocalBackend implements ExecutionBackend {
  readonly name: string;
  readonly #options: LocalBackendOptions;
  readonly #attachment: Attachment;
  #functions: PQueue | null = null;
  #processes: ProcessRunner | null = null;

  constructor(options: LocalBackendOptions = {}) {
    this.#options = options;
    this.name = typeof options.name === "string" ? options.name : "local";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    const opts = await parseBackendOptions("LocalBackend", async () => (await import("./options.js")).localBackendOptionsSchema, this.#options);
    this.#attachment.set(report, env);
    if (opts.concurrency !== undefined) {
      const { default: Queue } = await import("p-queue");
      this.#functions = new Queue({ concurrency: opts.concurrency });
    }
    this.#processes = await ProcessRunner.create(opts.maxProcesses, report, env);
  }

  submit(run: TaskRun): void {
    this.#attachment.admit(run);
    const report = this.#attachment.report;
    if (run.kind === "executable") this.#processes!.submit(run);
    else if (this.#functions === null) void callFunction(run, report); // reports its own outcome
    // A run cancelled while queued is skipped when its turn comes: O(1) a cancel (p-queue's own removal, given the
    // signal, scans its whole queue: 0.4 ms a cancel behind 100,000), and no AbortController made per run.
    else this.#functions.add(async () => run.aborted || callFunction(run, report)).catch(() => undefined);
  }

  // The run's signal is already aborted: a queued run is skipped at its turn, a
  // child process is killed by it, and a running body may listen to it.
  cancel(): void {}

  // Unbounded function runs start as they are submitted: only the two queues hold runs back.
  describe(run: TaskRun, started: boolean): RunDescription | undefined {
    if (started) return undefined;
    if (run.kind === "executable") return this.#processes?.describe();
    return this.#functions === null ? undefined : queuedIn(this.#functions, `event loop (concurrency ${this.#functions.concurrency})`);
  }

  shutdown(): Promise<void> {
    this.#attachment.close();
    this.#functions?.clear();
    this.#processes?.shutdown();
    return Promise.resolve();
  }
}
