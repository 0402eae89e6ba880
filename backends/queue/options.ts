/**
 * QueueBackend and queue worker options (zod). Loaded when the backend attaches, never by `import "asyncflow"`.
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

const redisConnection = z.union([
  z.url({ protocol: /^redis$/, error: "expected a redis:// URL or { host, port, username, password, db }" }),
  z.strictObject({
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    db: z.number().int().min(0).optional(),
  }),
]);

export const queueBackendOptionsSchema = z.strictObject({
  name: z.string().min(1).default("queue"),
  connection: redisConnection,
  queue: z.string().min(1).default("asyncflow"),
  connectTimeout: positiveInt.default(10_000),
  maxInFlight: positiveInt.default(10_000),
  maxEvents: positiveInt.default(100_000),
  noWorkerWarning: z.number().int().min(0).default(10_000),
});

export const queueWorkerOptionsSchema = z.strictObject({
  connection: redisConnection,
  queue: z.string().min(1).default("asyncflow"),
  concurrency: positiveInt.optional(),
  connectTimeout: positiveInt.default(10_000),
  lockDuration: positiveInt.optional(),
  stalledInterval: positiveInt.optional(),
  maxStalledCount: z.number().int().min(0).optional(),
});
