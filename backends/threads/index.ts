import type { Piscina } from "piscina";
import type { z } from "zod";
import { parseBackendOptions } from "../../lib/contract/options.js";
import { deserializeFailure } from "../../lib/contract/codec.js";
import { InvalidTaskError, WorkerCrashError, describe } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import { KILL_GRACE_MS } from "../process/command.js";
import { ProcessRunner } from "../process/runner.js";
import { uncloneableArgument } from "../remote/clone.js";
import { Attachment, oncePerBurst, type BackendEnvironment, type ExecutionBackend, type ReportState, type RunDescription, type TaskDescription } from "../../lib/contract/backend.js";
import { RunTimes, batchSize } from "./batch.js";
import type { RemoteTask } from "../remote/protocol.js";
import { functionRefs, type FunctionRefs } from "../remote/refs.js";
import type { threadBackendOptionsSchema } from "./options.js";
import { AbortSender } from "./aborts.js";
import { buffersIn, startPool } from "./pool.js";
import { isThreadFailure, isThreadStarted, startKey, type ThreadBatch, type ThreadResult } from "./protocol.js";

/** Options of a {@link ThreadBackend}; documented, with their defaults, in `options.ts`. */
export type ThreadBackendOptions = z.input<typeof threadBackendOptionsSchema>;

let readStats: (b: ThreadBackend) => { runs: number; poolTasks: number };

/**
 * Runs handed to the pool of `b`, and the pool tasks that carried them (fewer
 * when small tasks were batched). For tests; not part of the package's API.
 * @internal
 */
export function threadStatsOf(b: ThreadBackend): { runs: number; poolTasks: number } {
  return readStats(b);
}

/** A pool task handed over: its runs, and for a run alone, what terminates its thread. */
interface InPool {
  readonly runs: readonly TaskRun[];
  /** The pool it was handed to. */
  readonly pool: Piscina;
  /** Terminates its thread (through Piscina, which replaces it). */
  readonly killer: AbortController;
  /** A batch's count of members its thread began (see ThreadBatch); null for a run alone. */
  readonly progress: Int32Array | null;
  /** Armed by a cancel: terminates the thread if the body has not ended by then. */
  grace: NodeJS.Timeout | null;
  /** Runs cancelled before the worker said it began: their aborts go once it has (a thread still loading has no channel yet). */
  unsent: TaskRun[] | null;
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
  #refs: FunctionRefs | null = null;
  /** Starts the pool (on the first thread task), with the options resolved at attach. */
  #startPool: (() => Piscina) | null = null;
  #pool: Piscina | null = null;
  /** Pools retired by a thread that failed with no task on it, with that failure: what their runs fail with. */
  readonly #retired = new WeakMap<Piscina, unknown>();
  #processes: ProcessRunner | null = null;
  #maxThreads = 1;
  readonly #queue: (TaskRun | undefined)[] = [];
  readonly #times = new RunTimes();
  /** Pool tasks handed over whose worker has not yet said it began them, by their first run's uid and attempt (startKey). */
  readonly #starting = new Map<string, InPool>();
  readonly #inPool = new Set<InPool>();
  readonly #aborts = new AbortSender();
  /** Runs handed over again (delivery 2), their result lost with a thread that died after they ran (see #batchBroken). */
  readonly #again = new WeakSet<TaskRun>();
  /** Whether #again ever held a run: until then, dispatch looks nothing up. */
  #anyAgain = false;
  #runs = 0;
  #poolTasks = 0;
  #head = 0;
  #inFlight = 0;
  #closed = false;
  /** Places in #queue, 1 for the next to start. */
  readonly #places = oncePerBurst(() => {
    const places = new Map<TaskRun, number>();
    for (let i = this.#head; i < this.#queue.length; i++) {
      const run = this.#queue[i];
      if (run !== undefined && !run.aborted) places.set(run, places.size + 1);
    }
    return places;
  });

  constructor(options: ThreadBackendOptions = {}) {
    this.#given = options;
    this.name = typeof options?.name === "string" ? options.name : "threads";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    const opts = await parseBackendOptions("ThreadBackend", async () => (await import("./options.js")).threadBackendOptionsSchema, this.#given);
    this.#attachment.set(report, env);
    const { name: _name, maxProcesses, ...pool } = opts;
    this.#maxThreads = pool.maxThreads; // read by every #pump: kept as a field, set only here
    // Loading Piscina here (not at import) keeps `import "asyncflow"` light; the pool itself starts on the first thread task.
    const { Piscina } = await import("piscina");
    this.#startPool = () => {
      const started = startPool(Piscina, pool, this.#aborts.channel);
      started.on("message", (m: unknown) => {
        if (isThreadStarted(m)) this.#began(m.asyncflowStarted, m.thread);
      });
      started.on("error", (error: unknown) => this.#poolFailed(started, error));
      return started;
    };
    this.#refs = await functionRefs(); // acorn, loaded with the backend
    this.#processes = await ProcessRunner.create(maxProcesses, report, env);
  }

  static {
    readStats = (b) => ({ runs: b.#runs, poolTasks: b.#poolTasks });
  }

  /** Threads the pool runs now (0 until the first thread task). Public: it shows the pool start on the first thread task and shrink when idle. */
  get threadCount(): number {
    return this.#pool?.threads.length ?? 0;
  }

  validate(task: TaskDescription): void {
    if (task.kind !== "function") return;
    if (task.options.transfer === true && (task.options.retries ?? 0) > 0) {
      throw new InvalidTaskError(task.name, "option `transfer` moves the arguments' buffers to the first attempt's thread, where a retry would find them detached: drop `retries`, or let them be copied (no `transfer`)");
    }
    this.#refs!.validate(task.fn, task.name, task.options);
  }

  submit(run: TaskRun): void {
    this.#attachment.admit(run);
    if (run.kind === "executable") return this.#processes!.submit(run);
    const refused = uncloneableArgument(run, "a worker thread");
    if (refused !== null) return this.#attachment.report(run, "FAILED", refused);
    this.#queue.push(run);
    this.#pump();
  }

  // A queued run that is cancelled is skipped by #pump. A running one has its body's signal aborted in its thread, with the
  // engine's reason (a cancel or a timeout), so that the body can stop and clean up. A run alone in its pool task whose body
  // is still there KILL_GRACE_MS later (it ignores its signal, or is blocked in synchronous code) has its thread terminated
  // through Piscina, which replaces it; a batch's runs are small (their measured round trip is under 0.5 ms).
  cancel(run: TaskRun): void {
    if (run.kind !== "function") return;
    for (const p of this.#inPool) {
      if (!p.runs.includes(run)) continue;
      if (this.#starting.get(startKey(p.runs[0]!)) === p) (p.unsent ??= []).push(run);
      else this.#aborts.send(run);
      if (p.grace === null) this.#graceFor(p);
      return;
    }
  }

  // A body still running KILL_GRACE_MS after a cancel has its thread terminated. In a batch, when the member the thread
  // is in was cancelled; cancelled members not begun yet may still start (a thread that runs its members back to back,
  // blocked in none, reads no abort between them): they are looked at again a grace later.
  #graceFor(p: InPool): void {
    p.grace = setTimeout(() => {
      p.grace = null;
      if (!this.#inPool.has(p)) return;
      const begun = p.progress === null ? 1 : Atomics.load(p.progress, 0);
      const current = p.runs[begun - 1];
      if (current?.aborted === true) return p.killer.abort(current.signal.reason);
      if (p.runs.slice(begun).some((r) => r.aborted)) this.#graceFor(p);
    }, KILL_GRACE_MS).unref();
  }

  describe(run: TaskRun, started: boolean): RunDescription | undefined {
    if (started) return undefined;
    if (run.kind === "executable") return this.#processes?.describe();
    const places = this.#places();
    return { reason: "QUEUED", position: places.get(run), length: places.size, capacity: this.#maxThreads, where: `thread pool "${this.name}"` };
  }

  async shutdown(): Promise<void> {
    this.#attachment.close();
    this.#closed = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#processes?.shutdown();
    for (const p of this.#inPool) if (p.grace !== null) clearTimeout(p.grace);
    this.#aborts.close();
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
      const task = this.#task(run);
      if (task.transfer) this.#start([run], task, buffersIn(run.args));
      else if (this.#batchable(run)) this.#startBatch(run, task);
      else this.#start([run], task);
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
  }

  /**
   * Small (see batch.ts), and with no time limit: a batch's runs are reported
   * RUNNING together and end together, and its thread is never terminated, so
   * a run with a `timeout` or `deadline` goes alone, where those hold.
   */
  #batchable(run: TaskRun): boolean {
    const o = run.options;
    // A run handed over again goes alone: had it broken its last batch's thread after it ended (an error it left
    // behind), it would break the next batch too, blamed on another member each time.
    if (this.#delivery(run) !== undefined) return false;
    return o.timeout === undefined && o.deadline === undefined && this.#times.isSmall(this.#refs!.of(run).key);
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
      if (run.options.transfer === true || !this.#batchable(run)) break;
      const next = this.#task(run);
      queue[this.#head++] = undefined;
      runs.push(run);
      tasks.push(next);
    }
    this.#start(runs, runs.length === 1 ? task : ({ batch: tasks, progress: new Int32Array(new SharedArrayBuffer(4)) } satisfies ThreadBatch));
  }

  #task(run: TaskRun): RemoteTask {
    const task = this.#refs!.task(run);
    const delivery = this.#delivery(run);
    return delivery === undefined ? task : { ...task, delivery };
  }

  /** 2 for a run handed over again, else undefined (its first delivery, which nobody counts). */
  #delivery(run: TaskRun): 2 | undefined {
    return this.#anyAgain && this.#again.has(run) ? 2 : undefined;
  }

  /**
   * Hands `work` (one run's task, or a batch of them) to the pool: the
   * bookkeeping of both, and their reports. A run alone gets a signal for
   * Piscina, so that a cancel can terminate its thread (see `cancel`).
   */
  #start(runs: readonly TaskRun[], work: RemoteTask | ThreadBatch, transferList?: ArrayBuffer[]): void {
    const report = this.#attachment.report;
    const pool = (this.#pool ??= this.#startPool!());
    this.#inFlight++;
    this.#runs += runs.length;
    this.#poolTasks++;
    // RUNNING is reported when the worker says it began (see #began), keyed by the run it names.
    const key = startKey(runs[0]!);
    const entry: InPool = { runs, pool, killer: new AbortController(), progress: "batch" in work ? work.progress : null, grace: null, unsent: null };
    this.#starting.set(key, entry);
    this.#inPool.add(entry);
    const t0 = performance.now();
    pool
      .run(work, { signal: entry.killer.signal, transferList })
      .then(
        (value: unknown) => {
          if (!("batch" in work) && work.transfer) return this.#ended(key, undefined, () => report(runs[0]!, "DONE", value));
          const result = value as ThreadResult;
          this.#ended(key, result.thread, () => {
            if ("value" in result) return report(runs[0]!, "DONE", result.value);
            result.outcomes.forEach((o, i) => {
              if ("value" in o) report(runs[i]!, "DONE", o.value);
              else report(runs[i]!, "FAILED", deserializeFailure(o.error));
            });
          });
        },
        (error: unknown) => {
          const failure = this.#retired.has(pool) ? this.#retired.get(pool) : error;
          this.#ended(key, isThreadFailure(error) ? error.thread : undefined, () => {
            const begun = entry.progress === null ? 0 : Atomics.load(entry.progress, 0);
            if (begun === 0) return runs.forEach((run) => report(run, "FAILED", this.#failure(run, failure)));
            this.#batchBroken(runs, begun, failure);
          });
        },
      )
      .finally(() => {
        this.#inPool.delete(entry);
        if (entry.grace !== null) clearTimeout(entry.grace);
        const each = (performance.now() - t0) / runs.length;
        for (const run of runs) this.#times.record(this.#refs!.of(run).key, each);
        this.#inFlight--;
        this.#pump();
      });
  }

  // Piscina says a thread failed with no task on it as an 'error' on the pool, which unheard ended the process: an error a
  // body left behind (thrown by a timer or a promise it did not await, after it returned), or a thread failing as it starts
  // (a preload that throws in threads, `resourceLimits` too small to load the task module). Piscina does not replace threads
  // that fail as they start: once the pool has none left, the runs queued in it would wait forever, so the pool is retired,
  // its runs fail with the thread's failure (retries run in a new pool), and the next thread task starts a new one.
  // After shutdown, Piscina's destroy has dropped the tasks its threads held, and an answer still on its way arrives as
  // such an error: its run was settled by the shutdown, so there is nothing to say.
  #poolFailed(pool: Piscina, error: unknown): void {
    if (this.#retired.has(pool) || this.#closed) return;
    const env = this.#attachment.env;
    const runs = [...this.#inPool].filter((p) => p.pool === pool).reduce((n, p) => n + p.runs.length, 0);
    const empty = pool.threads.length === 0;
    const what =
      empty && runs > 0
        ? `, and its pool has no thread left: ${describe(error)}; the pool is replaced, and the ${runs} run(s) it held fail`
        : `: ${describe(error)} (an error a body left behind after it returned: a timer or a promise it did not await; or a thread that could not start)`;
    env.log.warn(env.sessionUid, `ThreadBackend "${this.name}": a worker thread failed with no task on it${what}`);
    // A pool with threads left goes on; one with none is replaced (quietly when nothing waited in it).
    if (!empty) return;
    this.#retired.set(pool, error);
    if (this.#pool === pool) this.#pool = null;
    void pool.destroy();
  }

  /**
   * A batch's thread died, or was terminated (blocked in a cancelled member past the grace), in member `begun`: that one
   * fails (a cancelled one was settled already). Those before it ended, but their outcomes were lost with the thread:
   * they are handed over again, as a queue redelivers a dead worker's jobs (the engine logs it, and the body sees
   * `taskContext().delivery`), since they did nothing wrong. Those after it never began. Both go back to the front of
   * the queue, in their order.
   */
  #batchBroken(runs: readonly TaskRun[], begun: number, failure: unknown): void {
    const culprit = runs[begun - 1]!;
    this.#attachment.report(culprit, "FAILED", this.#failure(culprit, failure));
    if (this.#closed) return;
    const again = runs.slice(0, begun - 1).filter((run) => !run.aborted);
    for (const run of again) this.#again.add(run); // alone from now on (see #batchable): never a batch's member again
    if (again.length > 0) {
      this.#anyAgain = true;
      const env = this.#attachment.env;
      env.log.warn(env.sessionUid, `ThreadBackend "${this.name}": a thread died in ${culprit.uid} (${culprit.name}); the ${again.length} run(s) its batch ran before it run again (delivery 2), their results lost with it: their bodies may have run twice`);
    }
    const rest = runs.filter((run, i) => i !== begun - 1 && !run.aborted);
    if (rest.length === 0) return;
    const queue = this.#queue;
    if (this.#head >= rest.length) {
      this.#head -= rest.length;
      rest.forEach((run, i) => (queue[this.#head + i] = run));
    } else queue.splice(this.#head, 0, ...rest);
  }

  /** RUNNING for the runs of a pool task whose worker began it. */
  #began(key: string, thread?: number): void {
    const starting = this.#starting.get(key);
    if (starting === undefined) return;
    this.#starting.delete(key);
    const info = thread === undefined ? undefined : { where: `thread ${thread}` };
    const report = this.#attachment.report;
    for (const run of starting.runs) {
      const delivery = this.#delivery(run);
      report(run, "RUNNING", undefined, delivery === undefined ? info : { ...info, delivery });
    }
    if (starting.unsent !== null) for (const run of starting.unsent) this.#aborts.send(run);
  }

  // The worker's start message and its result travel on different ports, so
  // the result may come first: then RUNNING is reported with it, naming the
  // thread the result names (never waiting on a message that may not come).
  #ended(key: string, thread: number | undefined, report: () => void): void {
    this.#began(key, thread);
    report();
  }

  #failure(run: TaskRun, error: unknown): unknown {
    return isThreadFailure(error) ? deserializeFailure(error.asyncflowFailure) : new WorkerCrashError(run, error);
  }
}
