/**
 * QueueBackend and queue worker options (zod): the one declaration of each,
 * with its defaults; `index.ts` and `worker.ts` derive their types from it.
 * Loaded when the backend attaches, never by `import "asyncflow"`.
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

/** Where the Redis server is: a `redis://[user:password@]host:port[/db]` URL, or its parts. */
export const redisConnectionSchema = z.union([
  z.url({ protocol: /^redis$/, error: "expected a redis:// URL or { host, port, username, password, db }" }),
  z.strictObject({
    /** @default "127.0.0.1" */
    host: z.string().min(1).optional(),
    /** @default 6379 */
    port: z.number().int().min(1).max(65_535).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    db: z.number().int().min(0).optional(),
  }),
]);

export const queueBackendOptionsSchema = z.strictObject({
  /** @default "queue" */
  name: z.string().min(1).optional(),
  /** The Redis server the queue lives on: `redis://host:port[/db]`, or its parts. */
  connection: redisConnectionSchema,
  /** The BullMQ queue; workers serve the same name (`asyncflow-worker --queue`). @default "asyncflow" */
  queue: z.string().min(1).default("asyncflow"),
  /** Milliseconds to wait for Redis when the engine starts. @default 10000 */
  connectTimeout: positiveInt.default(10_000),
  /** Jobs of this engine in Redis at once; ready tasks beyond it wait here (PENDING) for a slot. @default 10000 */
  maxInFlight: positiveInt.default(10_000),
  /** Length kept of the queue's event stream: at least 4 events per job in flight (added, waiting, active, completed), so that none is trimmed unread. @default 100000 */
  maxEvents: positiveInt.default(100_000),
  /**
   * Milliseconds in which no job of this engine started, while its jobs wait
   * and Redis lists no worker for the queue, before a warning says so in the
   * log (the tasks stay PENDING: a worker may still come). 0: never. @default 10000
   */
  noWorkerWarning: z.number().int().min(0).default(10_000),
});

export const queueWorkerOptionsSchema = z.strictObject({
  /** The Redis server of the engine's QueueBackend. */
  connection: redisConnectionSchema,
  /** @default "asyncflow" */
  queue: z.string().min(1).default("asyncflow"),
  /** Jobs run at once (async bodies interleave on this event loop). @default os.availableParallelism() */
  concurrency: positiveInt.optional(),
  /** Milliseconds to wait for Redis. @default 10000 */
  connectTimeout: positiveInt.default(10_000),
  /**
   * How fast the jobs of a worker that died are noticed (BullMQ's stall
   * detection): a job's lock lasts `lockDuration` ms unless its worker renews
   * it; every `stalledInterval` ms each live worker takes back jobs whose lock
   * expired, up to `maxStalledCount` times, then fails them (the task fails
   * with WorkerCrashError). One check runs per interval across all workers
   * of a queue, so every worker should use the same values.
   * @default 30000 (BullMQ's)
   */
  lockDuration: positiveInt.optional(),
  /** See `lockDuration`. @default `lockDuration` */
  stalledInterval: positiveInt.optional(),
  /** See `lockDuration`. @default 1 (BullMQ's) */
  maxStalledCount: z.number().int().min(0).optional(),
});
