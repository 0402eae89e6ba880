import type { ChildProcess } from "node:child_process";
import { parseBackendOptions } from "../../lib/contract/options.js";
import { availableParallelism } from "node:os";
import type { Job, Worker } from "bullmq";
import { Logger } from "../../lib/contract/log.js";
import { receiveCancels } from "./cancels.js";
import type { JobData, JobOutcome } from "./protocol.js";
import { ErrorReport, connectWithin, redisOptions, type ErrorSource, type RedisConnection } from "./redis.js";

export interface QueueWorkerOptions {
  /** The Redis server of the engine's QueueBackend. */
  connection: RedisConnection;
  /** @default "asyncflow" */
  queue?: string;
  /** Jobs run at once (async bodies interleave on this event loop). @default os.availableParallelism() */
  concurrency?: number;
  /** Milliseconds to wait for Redis. @default 10000 */
  connectTimeout?: number;
  /**
   * How fast the jobs of a worker that died are noticed (BullMQ's stall
   * detection): a job's lock lasts `lockDuration` ms unless its worker renews
   * it; every `stalledInterval` ms each live worker takes back jobs whose lock
   * expired, up to `maxStalledCount` times, then fails them (the task fails
   * with WorkerCrashError). One check runs per interval across all workers
   * of a queue, so every worker should use the same values.
   * @default 30000, `lockDuration`, 1 (BullMQ's)
   */
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
}

/** A running queue worker; `close()` lets the jobs it holds finish, then disconnects. */
export interface QueueWorker {
  readonly queue: string;
  readonly concurrency: number;
  /** Jobs this worker has finished (a body's failure counts: it is reported, not retried). */
  readonly processed: number;
  close(): Promise<void>;
  /** Stops at once: kills running commands (their tasks fail), and leaves function jobs it holds to go back to the queue once their locks expire. */
  kill(): Promise<void>;
}

const EARLY_CANCELS = 10_000;
const cancelled = (id: string): Error => new Error(`job ${id} was cancelled by the engine`);

/**
 * Serves a QueueBackend's jobs: the body of `asyncflow-worker`, usable in
 * process too. Each job's body runs through the same executor as a worker
 * thread's; its result or error goes back as the job's return value.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const opts = await parseBackendOptions("startQueueWorker", async () => (await import("./options.js")).queueWorkerOptionsSchema, options);
  const concurrency = opts.concurrency ?? availableParallelism();
  // Loaded here, not at import: the executor sets worker globals (`taskContext`), which an engine's process must not get.
  const [{ Worker }, { Redis }, { runJob, killAll }] = await Promise.all([import("bullmq"), import("ioredis"), import("./job.js")]);
  let processed = 0;
  // ASYNCFLOW_LOG_LEVEL=debug shows each job as it starts and ends, named by its task's uid.
  const log = new Logger();
  /** Jobs named for cancelling that were not running here: the most recent EARLY_CANCELS of them. */
  const early = new Set<string>();
  // Processes of command jobs running here: `kill()` kills them.
  const children = new Set<ChildProcess>();
  // Jobs running here, with the AbortController of each made only when its body reads the signal or it is cancelled.
  const running = new Map<string, AbortController | null>();
  const controller = (id: string): AbortController => {
    let c = running.get(id) ?? null;
    if (c === null) running.set(id, (c = new AbortController()));
    return c;
  };
  // The engine names a job to cancel on a channel; the worker holding it aborts the body's signal.
  // Subscribed before the worker starts, so that no cancel falls between the two.
  const cancels = new Redis(redisOptions(opts.connection)); // connects now, retrying until the subscribe below gives up
  // For looking up, after a reconnect, the cancels sent while the subscription was down.
  let lookup: InstanceType<typeof Redis> | null = null;
  const disconnect = (): void => {
    cancels.disconnect();
    lookup?.disconnect();
  };
  let ready = false;
  // Failures before the worker is ready make startQueueWorker reject; after, they are warnings, each said once while Redis is away.
  const errorReport = (who: string): ErrorReport => new ErrorReport((line) => process.emitWarning(`asyncflow queue worker${who}: ${line}`));
  const cancelErrors = errorReport(" (cancel channel)");
  const warnCancel = (e: Error): void => {
    if (ready) cancelErrors.error(e.message);
  };
  cancels.on("error", warnCancel);
  cancels.on("ready", () => cancelErrors.ready());
  const onCancel = (jobId: string): void => {
    if (running.has(jobId)) return controller(jobId).abort(cancelled(jobId));
    // Not running here (yet): kept a while, in case this worker is the one about to start it.
    early.add(jobId);
    if (early.size > EARLY_CANCELS) early.delete(early.values().next().value!);
  };
  const connected = (ready: Promise<unknown>, errors: ErrorSource): Promise<void> => connectWithin(ready, "queue worker", opts.connection, opts.connectTimeout, errors);
  try {
    const lookupClient = (): InstanceType<typeof Redis> => (lookup ??= new Redis(redisOptions(opts.connection)).on("error", warnCancel));
    const subscribed = receiveCancels(cancels, lookupClient, opts.queue, () => [...running.keys()], onCancel, warnCancel);
    await connected(subscribed, cancels);
  } catch (error) {
    disconnect();
    throw error;
  }
  const worker: Worker<JobData, JobOutcome> = new Worker<JobData, JobOutcome>(
    opts.queue,
    async (job: Job<JobData, JobOutcome>) => {
      const id = job.id!;
      running.set(id, null);
      // Cancelled while BullMQ was handing it to us: the body starts with its signal aborted.
      if (early.delete(id)) controller(id).abort(cancelled(id));
      if (log.debugOn) log.debug(job.data.uid, `${job.data.name}: job ${id} started`);
      try {
        const out = await runJob(job.data, { get signal() { return controller(id).signal; } }, children);
        processed++;
        if (log.debugOn) log.debug(job.data.uid, `${job.data.name}: job ${id} ${"value" in out ? "done" : "failed"}`);
        return out;
      } finally {
        running.delete(id);
      }
    },
    {
      connection: redisOptions(opts.connection),
      concurrency,
      ...(opts.lockDuration === undefined ? {} : { lockDuration: opts.lockDuration }),
      ...(opts.stalledInterval === undefined && opts.lockDuration === undefined ? {} : { stalledInterval: opts.stalledInterval ?? opts.lockDuration }),
      ...(opts.maxStalledCount === undefined ? {} : { maxStalledCount: opts.maxStalledCount }),
    },
  );
  const workerErrors = errorReport("");
  worker.on("error", (e) => {
    if (ready) workerErrors.error(e.message);
  });
  // BullMQ's worker has two connections, both reporting through its 'error': either being ready again ends the outage
  const backend = worker.getBackend();
  for (const connection of [backend.connection, backend.blockingConnection]) connection?.on("ready", () => workerErrors.ready());
  try {
    await connected(worker.waitUntilReady(), worker);
  } catch (error) {
    disconnect();
    await worker.close(true).catch(() => undefined);
    throw error;
  }
  ready = true;
  return {
    queue: opts.queue,
    concurrency,
    get processed() {
      return processed;
    },
    close: async () => {
      await worker.close();
      disconnect();
    },
    kill: async () => {
      // Abort first, so that a command about to start is killed as it starts.
      for (const id of running.keys()) controller(id).abort(new Error(`job ${id}: the worker was killed`));
      killAll(children);
      await worker.close(true);
      disconnect();
    },
  };
}
