import { parseBackendOptions } from "../../lib/contract/options.js";
import { randomBytes } from "node:crypto";
import type { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { AsyncflowError, InvalidOptionsError, InvalidTaskError, WorkerCrashError, describe } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import { commandOf } from "../local/exec.js";
import { functionRefs, type FunctionRefs } from "../remote/protocol.js";
import type { Command } from "../../lib/contract/task.js";
import { Attachment, type BackendEnvironment, type ExecutionBackend, type ReportState, type TaskDescription } from "../../lib/contract/backend.js";
import { CancelSender } from "./cancels.js";
import { commandJob, functionJob, readOutcome, type JobData } from "./protocol.js";
import { ErrorReport, connectWithin, describeRedis, redisOptions, type ErrorSource, type RedisConnection } from "./redis.js";
import { Slots } from "./slots.js";
import { IdleQueueWatch } from "./watch.js";

export interface QueueBackendOptions {
  /** @default "queue" */
  name?: string;
  /** The Redis server the queue lives on: `redis://host:port[/db]`, or its parts. */
  connection: RedisConnection;
  /** The BullMQ queue; workers serve the same name (`asyncflow-worker --queue`). @default "asyncflow" */
  queue?: string;
  /** Milliseconds to wait for Redis when the engine starts. @default 10000 */
  connectTimeout?: number;
  /** Jobs of this engine in Redis at once; ready tasks beyond it wait here (PENDING) for a slot. @default 10000 */
  maxInFlight?: number;
  /** Length kept of the queue's event stream: at least 4 events per job in flight (added, waiting, active, completed), so that none is trimmed unread. @default 100000 */
  maxEvents?: number;
  /**
   * Milliseconds in which no job of this engine started, while its jobs wait
   * and Redis lists no worker for the queue, before a warning says so in the
   * log (the tasks stay PENDING: a worker may still come). 0: never. @default 10000
   */
  noWorkerWarning?: number;
}

interface Job {
  readonly run: TaskRun;
  readonly id: string;
  readonly data: JobData;
}

const EVENTS_PER_JOB = 4;
const CLOSE_WAIT_MS = 2000;
const LOST_GRACE_MS = 1000;
const EVENT_READ_BLOCK_MS = 1000;

/**
 * Runs tasks as jobs of a BullMQ queue on Redis, served by workers
 * (`asyncflow-worker`, or `startQueueWorker`) on this or other machines. A
 * function task is a self-contained function (its source travels in the job)
 * or a module export (`module` option; each worker imports it from the same
 * path). An executable task's command is made here and run by the worker.
 * Arguments and results keep their types (JSON where it is exact, V8's
 * serializer otherwise), errors travel whole.
 *
 * Completion arrives as events (BullMQ's QueueEvents: one blocking read of the
 * queue's event stream for all jobs), never by polling a job. Jobs are added
 * in bulk, one round trip per burst of ready tasks.
 */
export class QueueBackend implements ExecutionBackend {
  readonly name: string;
  readonly #given: QueueBackendOptions;
  readonly #attachment: Attachment;
  #redis: Redis | null = null;
  #queue: Queue | null = null;
  #events: QueueEvents | null = null;
  #refs: FunctionRefs | null = null;
  /** Runs in the queue by job id, and those waiting for a slot. */
  #slots: Slots = new Slots(0, () => undefined);
  #outbox: Job[] = [];
  /** Cancels on their way to Redis (job removal, the message to workers): shutdown waits for them. */
  #cancels: CancelSender | null = null;
  /** Adds not yet answered by Redis: a check after a reconnect waits for them. */
  readonly #adding = new Set<Promise<unknown>>();
  #sessionUid = "";
  #jobPrefix = "";
  #closed = false;
  #watch: IdleQueueWatch | null = null;

  constructor(options: QueueBackendOptions) {
    this.#given = options;
    this.name = typeof options?.name === "string" ? options.name : "queue";
    this.#attachment = new Attachment(this.name);
  }

  async attach(report: ReportState, env: BackendEnvironment): Promise<void> {
    const opts = await parseBackendOptions("QueueBackend", async () => (await import("./options.js")).queueBackendOptionsSchema, this.#given);
    if (opts.maxEvents < EVENTS_PER_JOB * opts.maxInFlight) {
      throw new InvalidOptionsError(
        `QueueBackend "${this.name}": maxEvents (${opts.maxEvents}) must be at least ${EVENTS_PER_JOB} x maxInFlight (${opts.maxInFlight}), or completions could be trimmed from the event stream unread`,
      );
    }
    this.#attachment.set(report, env);
    this.#sessionUid = env.sessionUid;
    // Job ids are short (long ones cost Redis ~10% of its throughput here) and start with a nonce of
    // this engine start, so that no other engine, nor a rerun with the same `uid`, meets them (BullMQ
    // keeps failed jobs, and silently drops an add whose id exists).
    this.#jobPrefix = randomBytes(5).readUIntBE(0, 5).toString(36);
    this.#slots = new Slots(opts.maxInFlight, (id, run, data) => {
      if (this.#outbox.push({ run, id, data }) === 1) queueMicrotask(this.#flush);
    });
    const [{ Queue, QueueEvents }, { Redis }] = await Promise.all([import("bullmq"), import("ioredis")]);
    const redis = (this.#redis = new Redis({ ...redisOptions(opts.connection), lazyConnect: true }));
    redis.on("error", () => undefined); // reported by the connect below, then by the queue (logged) and the commands that fail
    const within = this.#within(opts.connection, opts.connectTimeout);
    await within(redis.connect(), redis);
    const queue = (this.#queue = new Queue(opts.queue, { connection: redis, streams: { events: { maxLen: opts.maxEvents } } }));
    const errorReport = (who: string): ErrorReport =>
      new ErrorReport((line, recovered) => env.log[recovered ? "warn" : "error"](env.sessionUid, `QueueBackend "${this.name}"${who}: ${line}`));
    const errors = errorReport("");
    this.#cancels = new CancelSender(queue, redis, (e) => errors.error(`cancels not recorded (workers that were disconnected will not see them): ${describe(e)}`));
    // 'ready' again means Redis came back: jobs it lost (a restart without persistence) must not leave tasks waiting forever.
    redis.on("ready", () => {
      errors.ready();
      void this.#checkLost(env);
    });
    queue.on("error", (e) => errors.error(describe(e)));
    // Read events from the stream's current end: no job of ours is older, and none can be missed.
    const last = await redis.xrevrange(queue.keys.events!, "+", "-", "COUNT", 1);
    const events = (this.#events = new QueueEvents(opts.queue, {
      connection: redisOptions(opts.connection),
      lastEventId: last[0]?.[0] ?? "0-0",
      // Events arrive at once whatever this is; it bounds how long an idle read blocks, and so how long
      // BullMQ's watchdog on that read (this + 1 s, a timer close() cannot reach) can hold the process
      // after shutdown() when Redis is gone: 11 s with BullMQ's 10 s default.
      blockingTimeout: EVENT_READ_BLOCK_MS,
    }));
    const eventErrors = errorReport(" events");
    events.on("error", (e) => eventErrors.error(describe(e)));
    events.getBackend().connection.on("ready", () => eventErrors.ready());
    events.on("active", ({ jobId }) => this.#active(jobId));
    events.on("completed", ({ jobId, returnvalue }) => this.#completed(jobId, returnvalue as unknown));
    events.on("failed", ({ jobId, failedReason }) => this.#failed(jobId, failedReason));
    await within(events.waitUntilReady(), events);
    this.#refs = await functionRefs();
    const where = describeRedis(opts.connection);
    this.#watch = new IdleQueueWatch(
      opts.noWorkerWarning,
      () => this.#slots.size,
      () => queue.getWorkersCount(),
      (idleMs, jobs) =>
        env.log.warn(
          env.sessionUid,
          `QueueBackend "${this.name}": ${jobs} job(s) waiting, none started for ${(idleMs / 1000).toFixed(1)} s, and Redis lists no worker for queue "${opts.queue}" at ${where}. ` +
            `Start one: asyncflow-worker --redis ${where} --queue ${opts.queue}`,
        ),
    );
  }

  /** Waits for a connection to Redis, at most `ms`; on failure drops the main client, and the error names this backend and the address. */
  #within(connection: RedisConnection, ms: number) {
    return async (ready: Promise<unknown>, errors: ErrorSource): Promise<void> => {
      try {
        await connectWithin(ready, `QueueBackend "${this.name}"`, connection, ms, errors);
      } catch (error) {
        this.#redis?.disconnect();
        throw error;
      }
    };
  }

  /** Job ids of this engine are `<jobPrefix>.<task number>.<attempt>` (`k3x9f2a.000123.1` for task.000123): the prefix is a nonce made when the engine started. */
  get jobPrefix(): string {
    return this.#jobPrefix;
  }

  /** Jobs of this engine now in Redis (waiting for or running on a worker), at most `maxInFlight`. */
  get inQueue(): number {
    return this.#slots.size;
  }

  /** Ready runs held here until a slot frees (beyond `maxInFlight`). */
  get backlog(): number {
    return this.#slots.waiting;
  }

  validate(task: TaskDescription): void {
    if (task.kind === "function") this.#refs!.validate(task.fn, task.name, task.options);
  }

  submit(run: TaskRun): void {
    if (run.kind === "executable") return void this.#submitCommand(run);
    const job = functionJob(run, this.#refs!);
    if (job instanceof InvalidTaskError) return this.#attachment.report(run, "FAILED", job);
    this.#slots.admit(this.#jobId(run), run, job);
  }

  // The command is made here, where the task was defined (its function may close over anything); the worker runs it.
  async #submitCommand(run: TaskRun): Promise<void> {
    let command: Command;
    try {
      command = await commandOf(run);
    } catch (error) {
      return this.#attachment.report(run, "FAILED", error);
    }
    if (run.aborted || this.#closed) return;
    this.#slots.admit(this.#jobId(run), run, commandJob(run, command, this.#sessionUid));
  }

  cancel(run: TaskRun): void {
    const id = this.#jobId(run);
    // A run still in the backlog is skipped when its turn comes (its signal is aborted).
    if (!this.#slots.release(id)) return;
    // A waiting job is removed; the worker holding a running one aborts its body's signal.
    this.#cancels?.send(id);
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.stop();
    this.#slots.clear();
    // The engine cancelled every run before this: let those cancels reach Redis (so that workers abort
    // the bodies), then close. With Redis gone, both can wait forever (ioredis queues commands, and gives
    // BullMQ's close no connection end while it is between reconnects): wait a while, not forever.
    const closed = Promise.resolve(this.#cancels?.settled()).then(() => Promise.allSettled([this.#events?.close(), this.#queue?.close()]));
    await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
    this.#redis?.disconnect();
  }

  #jobId(run: TaskRun): string {
    // "k3x9f2a.000123.1" for task.000123, attempt 1
    return `${this.#jobPrefix}.${run.uid.slice(run.uid.indexOf(".") + 1)}.${run.attempt}`;
  }

  readonly #flush = (): void => {
    // Runs cancelled since they were queued here are not sent (their slots were freed by the cancel).
    const outbox = this.#outbox.filter(({ run }) => !run.aborted);
    this.#outbox = [];
    if (this.#closed || outbox.length === 0) return;
    const jobs = outbox.map(({ run, id, data }) => ({ name: run.name, data, opts: { jobId: id, removeOnComplete: true, removeOnFail: 1000 } }));
    // One job alone (a chain's next hop) goes by a plain add: cheaper for Redis than a one-job MULTI.
    const queue = this.#queue!;
    const added: Promise<unknown> = jobs.length === 1 ? queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : queue.addBulk(jobs);
    this.#adding.add(added);
    this.#watch!.sent();
    void added.finally(() => this.#adding.delete(added)).catch(() => undefined);
    added.catch((error: unknown) => {
      const report = this.#attachment.report;
      for (const { run, id } of outbox) {
        if (this.#slots.release(id)) report(run, "FAILED", new AsyncflowError(`${run.uid} (${run.name}): could not be queued: ${describe(error)}`, { cause: error }));
      }
    });
  };

  /** After a reconnect: fails the tasks whose jobs Redis no longer has. */
  async #checkLost(env: BackendEnvironment): Promise<void> {
    const queue = this.#queue;
    const redis = this.#redis;
    if (queue === null || redis === null || this.#closed) return;
    try {
      await Promise.allSettled([...this.#adding]);
      const ids = this.#slots.ids();
      if (ids.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.exists(queue.toKey(id));
      const found = (await pipeline.exec()) ?? [];
      const missing = ids.filter((_, i) => found[i]?.[0] === null && found[i]?.[1] === 0);
      if (missing.length === 0) return;
      // A job that completed just now is gone too (removeOnComplete), its event not yet read:
      // give the event reader a moment before calling the rest lost.
      await new Promise((r) => setTimeout(r, LOST_GRACE_MS).unref());
      const report = this.#attachment.report;
      for (const id of missing) {
        const run = this.#slots.get(id);
        if (run === undefined || !this.#slots.release(id)) continue;
        report(run, "FAILED", new AsyncflowError(`${run.uid} (${run.name}): its job ${id} is gone from Redis (the server restarted without persistence, or the job was deleted)`));
      }
    } catch (error) {
      env.log.error(env.sessionUid, `QueueBackend "${this.name}": checking jobs after a reconnect failed: ${describe(error)}`);
    }
  }

  #active(jobId: string): void {
    const run = this.#slots.get(jobId);
    if (run === undefined) return;
    this.#watch!.started();
    this.#attachment.report(run, "RUNNING");
  }

  #completed(jobId: string, returned: unknown): void {
    const run = this.#slots.get(jobId);
    if (run === undefined) return;
    this.#slots.release(jobId);
    const [state, value] = readOutcome(run, returned);
    this.#attachment.report(run, state, value);
  }

  // A body's own failure arrives as a completed job; a failed job means the worker could not run it (it died holding it, say).
  #failed(jobId: string, reason: string): void {
    const run = this.#slots.get(jobId);
    if (run === undefined) return;
    this.#slots.release(jobId);
    this.#attachment.report(run, "FAILED", new WorkerCrashError(run, new Error(reason)));
  }
}
