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
  /** Runs whose bodies hold a `concurrency` slot now. */
  readonly #inSlots = new Set<TaskRun>();
  /** Those of them cancelled, with when: a body that ignores its signal keeps its slot until it returns. */
  readonly #held = new Map<TaskRun, number>();

  constructor(options: LocalBackendOptions = {}) {
    this.#options = options;
    this.name = typeof options?.name === "string" ? options.name : "local";
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
    else this.#functions.add(() => this.#inSlot(run, report)).catch(() => undefined);
  }

  async #inSlot(run: TaskRun, report: ReportState): Promise<void> {
    if (run.aborted) return;
    this.#inSlots.add(run);
    await callFunction(run, report);
    this.#inSlots.delete(run);
    if (this.#held.size > 0) this.#held.delete(run);
  }

  // The run's signal is already aborted: a queued run is skipped at its turn, a
  // child process is killed by it, and a running body may listen to it. Under a
  // concurrency limit, a body that does not return keeps its slot: remembered,
  // so that what waits behind it can say why.
  cancel(run: TaskRun): void {
    if (this.#inSlots.has(run)) this.#held.set(run, performance.now());
  }

  // Unbounded function runs start as they are submitted: only the two queues hold runs back.
  describe(run: TaskRun, started: boolean): RunDescription | undefined {
    if (started) return undefined;
    if (run.kind === "executable") return this.#processes?.describe();
    if (this.#functions === null) return undefined;
    const queued = queuedIn(this.#functions, `event loop (concurrency ${this.#functions.concurrency})`);
    return this.#held.size === 0 ? queued : { ...queued, hint: heldBy(this.#held) };
  }

  shutdown(): Promise<void> {
    this.#attachment.close();
    this.#functions?.clear();
    this.#processes?.shutdown();
    return Promise.resolve();
  }
}

/** Names the cancelled bodies still holding slots (the first three). */
function heldBy(held: ReadonlyMap<TaskRun, number>): string {
  const now = performance.now();
  const named = [...held].slice(0, 3).map(([run, at]) => `${run.name} (${run.uid}), cancelled ${((now - at) / 1000).toFixed(1)} s ago`);
  const more = held.size > 3 ? ` and ${held.size - 3} more` : "";
  return `${held.size} slot(s) held by cancelled bodies that have not returned (they ignore their signal): ${named.join("; ")}${more}`;
}
