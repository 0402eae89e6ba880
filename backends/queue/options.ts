/**
 * QueueBackend and queue worker options (zod), declared once: the TypeScript
 * option types are derived from these schemas. Loaded when the backend
 * attaches, never by `import "asyncflow"`.
 */
import { z } from "zod";
import { MIN_SECRET_LENGTH } from "./sign.js";

const positiveInt = z.number().int().positive();
const pem = z.union([z.string(), z.instanceof(Uint8Array)]);

/** `redis://` or `rediss://` (TLS), with an optional `/<db number>`; the password, percent-encoded, never appears in a message. */
const redisUrl = z.string().superRefine((s, ctx) => {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return void ctx.addIssue({ code: "custom", message: "expected a redis:// or rediss:// URL" });
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") ctx.addIssue({ code: "custom", message: `expected a redis:// or rediss:// URL, not ${url.protocol}//` });
  else if (url.pathname.length > 1 && !/^\/\d+$/.test(url.pathname)) ctx.addIssue({ code: "custom", message: `the URL's path must be a database number (redis://host:6379/2), got ${JSON.stringify(url.pathname)}` });
});

export const redisConnectionSchema = z.union([
  redisUrl,
  z.strictObject({
    /** @default "127.0.0.1" */
    host: z.string().min(1).optional(),
    /** @default 6379 */
    port: z.number().int().min(1).max(65_535).optional(),
    /** An ACL user (Redis 6+). */
    username: z.string().optional(),
    password: z.string().optional(),
    db: z.number().int().min(0).optional(),
  }),
]);

/** TLS to Redis: `true` for the system's CAs, or the PEM material (a string or bytes) and the name to check. `rediss://` turns it on too. */
export const tlsSchema = z.union([
  z.boolean(),
  z.strictObject({
    ca: pem.optional(),
    cert: pem.optional(),
    key: pem.optional(),
    servername: z.string().optional(),
    /** @default true */
    rejectUnauthorized: z.boolean().optional(),
  }),
]);

/** A shared secret for signing jobs and results: at least 16 characters or bytes, on both sides (they share this schema). */
export const secretSchema = z.union([
  z.string().min(MIN_SECRET_LENGTH, `expected at least ${MIN_SECRET_LENGTH} characters`),
  z.instanceof(Uint8Array).refine((b) => b.length >= MIN_SECRET_LENGTH, `expected at least ${MIN_SECRET_LENGTH} bytes`),
]);

/** What both sides take: where Redis is, how to reach it, which keys, which secret. */
const transport = {
  /** The Redis server: `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS), or its parts. @default process.env.ASYNCFLOW_REDIS_URL */
  connection: redisConnectionSchema.optional(),
  tls: tlsSchema.optional(),
  /** Put before every key asyncflow and BullMQ use in Redis (with `:`), so that ACLs can confine a user to `~<prefix>:*`. Engine and workers must agree. @default "bull" (BullMQ's) */
  prefix: z.string().min(1).regex(/^[^:\s]+$/, "expected a name without `:` or spaces").default("bull"),
  /** The BullMQ queue; workers serve the same name (`asyncflow worker --queue`). @default "asyncflow" */
  queue: z.string().min(1).default("asyncflow"),
  /** Sign every job and result with HMAC-SHA256 under this shared secret; refuse what is unsigned or badly signed. Never stored in Redis, never printed. */
  secret: secretSchema.optional(),
  /** Milliseconds to wait for Redis when starting. @default 10000 */
  connectTimeout: positiveInt.default(10_000),
  /** Milliseconds Redis may stay unreachable before the runs it holds fail (engine), or the bodies running are stopped (worker). @default 30000 */
  unreachableTimeout: positiveInt.default(30_000),
};

export const queueBackendOptionsSchema = z.strictObject({
  /** @default "queue" */
  name: z.string().min(1).default("queue"),
  ...transport,
  /** Jobs of this engine in Redis at once; ready tasks beyond it wait here (PENDING) for a slot. @default 10000 */
  maxInFlight: positiveInt.default(10_000),
  /** Length of the queue's event stream (BullMQ's `maxLenEvents`). Completions lost to trimming, by this or any other client's setting, are reconciled from the jobs themselves. @default 100000 */
  maxEvents: positiveInt.default(100_000),
  /**
   * Milliseconds in which no job of this engine started, while its jobs wait
   * and Redis lists no worker for the queue, before a warning says so in the
   * log (the tasks stay PENDING: a worker may still come). 0: never. @default 10000
   */
  noWorkerWarning: z.number().int().min(0).default(10_000),
  /** Seconds a finished job (and its result) stays in Redis at most, for reconciling completions whose events were missed; the engine removes those it read sooner. @default 600 */
  keepFinished: positiveInt.default(600),
});

/**
 * How fast the jobs of a worker that died are noticed (BullMQ's stall
 * detection): a job's lock lasts `lockDuration` ms unless its worker renews
 * it (every `lockDuration / 2`); every `stalledInterval` ms the live workers
 * take back jobs whose lock expired, up to `maxStalledCount` times, then fail
 * them. A body that blocks its worker's event loop longer than
 * `lockDuration` loses its lock and is run again elsewhere: raise it for such
 * bodies. Every worker of a queue should use the same values.
 */
export const queueWorkerOptionsSchema = z.strictObject({
  ...transport,
  /** Jobs run at once (async bodies interleave on this event loop). @default os.availableParallelism() */
  concurrency: positiveInt.optional(),
  /** @default 5000 */
  lockDuration: positiveInt.default(5_000),
  /** @default lockDuration / 2 */
  stalledInterval: positiveInt.optional(),
  /** @default 1 */
  maxStalledCount: z.number().int().min(0).default(1),
  /** Modules (paths or package names) whose exported functions this worker runs, by the task's name. */
  modules: z.array(z.string().min(1)).default([]),
  /** Run a job's shipped function source. @default false */
  allowSource: z.boolean().default(false),
  /** Import a module a job names, when it lies under one of these path prefixes or is one of these packages. @default [] */
  allowModules: z.array(z.string().min(1)).default([]),
  /** Run a job's command. @default false */
  allowExec: z.boolean().default(false),
  /** How this worker names itself in errors and RUNNING reports. @default "<hostname>:<pid>" */
  id: z.string().min(1).optional(),
});
