import { parseBackendOptions } from "../../lib/contract/options.js";
import { availableParallelism } from "node:os";
import type { Piscina } from "piscina";
import { deserializeError, findUncloneable } from "../../lib/contract/codec.js";
import { InvalidTaskError, WorkerCrashError } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import { ProcessRunner } from "../local/exec.js";
import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState, type TaskDescription } from "../../lib/contract/backend.js";
import { RunTimes, batchSize } from "./batch.js";
import { functionRefs, type FunctionRefs, type RemoteTask } from "../remote/protocol.js";
import { isThreadFailure, type ThreadBatch, type ThreadOutcome } from "./protocol.js";

export interface ThreadBackendOptions {
  /** @default "threads" */
  name?: string;
  /** @default os.availableParallelism() */
  maxThreads?: number;
  /** Threads kept alive when idle. @default Piscina's default */
  minThreads?: number;
  /** Milliseconds an idle thread above `minThreads` lives: a flow is a session, so warm threads stay warm while it works. @default 30000 */
  idleTimeout?: number;
  /** Per-thread V8 limits; a thread that exceeds them fails only its task. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number };
  /** Executable tasks routed here run as child processes, at most this many at once. @default os.availableParallelism() */
  maxProcesses?: number;
}


/**
 * Runs function tasks on a pool of worker threads (Piscina), so CPU-bound
 * bodies leave the event loop. A task is either a self-contained function
 * (its source is shipped and compiled once per worker) or a module export
 * (`module` option). Arguments and results cross by structured clone, or are
 * moved with `transfer: true`. Executable tasks run as child processes, as on
 * the local backend; blocks run in the engine.
 *
 * The backend keeps its own FIFO and hands work to the pool only when a
 * thread is free for it, so RUNNING means the body has started (for a batch
 * of small tasks, that the batch holding it has).
 */
export class ThreadBackend implements ExecutionBackend {
  readonly name: string;
  readonly #given: ThreadBackendOptions;
  readonly #attachment: Attachment;
  #Pool: typeof Piscina | null = null;
  #refs: FunctionRefs | null = null;
  #pool: Piscina | null = null;
  #processes: ProcessRunner | null = null;
  #maxThreads = 1;
  #resolved: Omit<ThreadBackendOptions, "name" | "maxProcesses"> = {};
  readonly #queue: (TaskRun | undefined)[] = [];
  readonly #times = new RunTimes();
  #runs = 0;
  #poolTasks = 0;
  #head = 0;
  #inFlight = 0;
  #closed = false;

  constructor(options: ThreadBackendOptions = {}) {
    this.#given = options;
    this.name = typeof options.name === "string" ? options.name : "threads";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    const opts = await parseBackendOptions("ThreadBackend", async () => (await import("./options.js")).threadBackendOptionsSchema, this.#given);
    this.#attachment.set(report, env);
    this.#maxThreads = opts.maxThreads ?? availableParallelism();
    const { name: _name, maxProcesses, ...pool } = opts;
    this.#resolved = { ...pool, maxThreads: this.#maxThreads };
    // Loading Piscina here (not at import) keeps `import "asyncflow"` light; the pool itself starts on the first thread task.
    this.#Pool = (await import("piscina")).Piscina;
    this.#refs = await functionRefs(); // acorn, loaded with the backend
    this.#processes = await ProcessRunner.create(maxProcesses ?? availableParallelism(), report, env);
  }

  /** Runs handed to the pool, and the pool tasks that carried them (fewer when small tasks were batched). */
  get stats(): { runs: number; poolTasks: number } {
    return { runs: this.#runs, poolTasks: this.#poolTasks };
  }

  /** Threads the pool runs now (0 until the first thread task). */
  get threadCount(): number {
    return this.#pool?.threads.length ?? 0;
  }

  validate(task: TaskDescription): void {
    if (task.kind === "function") this.#refs!.validate(task.fn, task.name, task.options);
  }

  submit(run: TaskRun): void {
    if (run.kind === "executable") return this.#processes!.submit(run);
    for (let i = 0; i < run.args.length; i++) {
      const bad = findUncloneable(run.args[i]);
      if (bad !== null) {
        const error = new InvalidTaskError(run.name, `${run.uid}: argument args[${i}] cannot be sent to a worker thread: it is or holds ${bad}`);
        return this.#attachment.report(run, "FAILED", error);
      }
    }
    this.#queue.push(run);
    this.#pump();
  }

  // A queued run that is cancelled is skipped by #pump; a running one is
  // aborted through Piscina by its signal (the worker is terminated and replaced).
  cancel(): void {}

  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#processes?.shutdown();
    const pool = this.#pool;
    this.#pool = null;
    await pool?.destroy();
  }

  #pump(): void {
    const queue = this.#queue;
    while (this.#inFlight < this.#maxThreads && this.#head < queue.length && !this.#closed) {
      const run = queue[this.#head]!;
      queue[this.#head++] = undefined;
      if (run.aborted) continue;
      const task = this.#refs!.task(run);
      if (!task.transfer && this.#times.isSmall(this.#refs!.of(run).key)) this.#startBatch(run, task);
      else this.#start(run, task);
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
  }

  #start(run: TaskRun, task: RemoteTask): void {
    const report = this.#attachment.report;
    const pool = (this.#pool ??= this.#createPool());
    this.#inFlight++;
    this.#runs++;
    this.#poolTasks++;
    report(run, "RUNNING");
    const t0 = performance.now();
    pool
      .run(task, { signal: run.signal, transferList: task.transfer ? buffersIn(run.args) : undefined })
      .then(
        (value: unknown) => report(run, "DONE", value),
        (error: unknown) => report(run, "FAILED", this.#failure(run, error)),
      )
      .finally(() => {
        this.#times.record(this.#refs!.of(run).key, performance.now() - t0);
        this.#inFlight--;
        this.#pump();
      });
  }

  // `first` is small: take the small, untransferred runs queued behind it into one pool task.
  #startBatch(first: TaskRun, task: RemoteTask): void {
    const queue = this.#queue;
    const runs = [first];
    const tasks = [task];
    const limit = batchSize(queue.length - this.#head + 1, this.#maxThreads);
    while (runs.length < limit && this.#head < queue.length) {
      const run = queue[this.#head]!;
      if (run.aborted) {
        queue[this.#head++] = undefined;
        continue;
      }
      if (run.options.transfer === true || !this.#times.isSmall(this.#refs!.of(run).key)) break;
      const next = this.#refs!.task(run);
      queue[this.#head++] = undefined;
      runs.push(run);
      tasks.push(next);
    }
    if (runs.length === 1) return this.#start(first, task);
    const report = this.#attachment.report;
    const pool = (this.#pool ??= this.#createPool());
    this.#inFlight++;
    this.#runs += runs.length;
    this.#poolTasks++;
    for (const run of runs) report(run, "RUNNING");
    const t0 = performance.now();
    pool
      .run({ batch: tasks } satisfies ThreadBatch)
      .then(
        (outcomes: ThreadOutcome[]) =>
          outcomes.forEach((o, i) => {
            const run = runs[i]!;
            if ("value" in o) report(run, "DONE", o.value);
            else report(run, "FAILED", deserializeError(o.error));
          }),
        (error: unknown) => runs.forEach((run) => report(run, "FAILED", this.#failure(run, error))),
      )
      .finally(() => {
        const each = (performance.now() - t0) / runs.length;
        for (const run of runs) this.#times.record(this.#refs!.of(run).key, each);
        this.#inFlight--;
        this.#pump();
      });
  }

  #failure(run: TaskRun, error: unknown): Error {
    return isThreadFailure(error) ? deserializeError(error.asyncflowFailure) : new WorkerCrashError(run, error);
  }

  #createPool(): Piscina {
    const here = import.meta.url;
    const fromSources = here.endsWith(".ts");
    const entry = new URL(`./worker.${fromSources ? "ts" : "js"}`, here).href;
    return new this.#Pool!({
      filename: new URL("./bootstrap.mjs", here).href,
      workerData: { asyncflow: { entry, tsx: fromSources } },
      ...this.#resolved,
    });
  }
}

/** Every distinct ArrayBuffer in plain structures of `args` (typed arrays give their buffer). */
function buffersIn(args: readonly unknown[]): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (x: unknown): void => {
    if (typeof x !== "object" || x === null) return;
    if (x instanceof ArrayBuffer) found.add(x);
    else if (ArrayBuffer.isView(x)) {
      if (x.buffer instanceof ArrayBuffer) found.add(x.buffer);
    } else if (Array.isArray(x)) x.forEach(visit);
    else if (Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach(visit);
  };
  args.forEach(visit);
  return [...found];
}
