/**
 * Option schemas (zod) and the one function that turns a failed parse into an
 * error naming the option, what was expected and what was received.
 *
 * zod takes ~40 ms to import, so this module is loaded by
 * `WorkflowEngine.create()` (and backends' `attach`), never by `import "asyncflow"`.
 */
import { z } from "zod";
import { isExecutionBackend, type ExecutionBackend } from "../backends/backend.js";

const backends = z.custom<ExecutionBackend | ExecutionBackend[]>(
  (x) => isExecutionBackend(x) || (Array.isArray(x) && x.length > 0 && x.every(isExecutionBackend)),
  { message: "expected an execution backend (an object with name, attach, submit, cancel and shutdown) or a non-empty array of them" },
);

export const engineOptionsSchema = z.strictObject({
  backend: backends.optional(),
  dryRun: z.boolean().default(false),
  uid: z.string().min(1).optional(),
  workDir: z.string().min(1).optional(),
  handleSignals: z.boolean().default(true),
  history: z.number().int().min(0).default(10_000),
});

const name = z.string().min(1).optional();
const base = { name, backend: z.string().min(1).optional() };

export const functionOptionsSchema = z.strictObject({
  ...base,
  /** A module that exports the function under `name ?? fn.name`: worker backends import it there. */
  module: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  transfer: z.boolean().optional(),
});

export const executableOptionsSchema = z.strictObject({
  ...base,
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  timeout: z.number().int().positive().optional(),
  captureStdio: z.boolean().optional(),
});

export const blockOptionsSchema = z.strictObject(base);

const positiveInt = z.number().int().positive();

export const threadBackendOptionsSchema = z.strictObject({
  name: z.string().min(1).default("threads"),
  maxThreads: positiveInt.optional(),
  minThreads: z.number().int().min(0).optional(),
  idleTimeout: z.number().int().min(0).default(30_000),
  resourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: positiveInt.optional(),
      maxYoungGenerationSizeMb: positiveInt.optional(),
      codeRangeSizeMb: positiveInt.optional(),
      stackSizeMb: positiveInt.optional(),
    })
    .optional(),
  maxProcesses: positiveInt.optional(),
});

export const localBackendOptionsSchema = z.strictObject({
  name: z.string().min(1).default("local"),
  concurrency: z.number().int().positive().optional(),
  maxProcesses: z.number().int().positive().optional(),
});

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

/**
 * Parses `input` with `schema`; on failure throws `makeError(message)` where
 * the message reads like ``option `history`: expected an integer >= 0, got `-1` (number)``.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  makeError: (message: string) => Error,
): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `unknown option${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")}`;
    const path = issue.path.map(String).join(".");
    const got = at(input, issue.path);
    const where = path === "" ? "options" : `option \`${path}\``;
    return `${where}: ${issue.message}, got ${show(got)}`;
  });
  throw makeError(lines.join("; "));
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let x = input;
  for (const key of path) x = x !== null && typeof x === "object" ? (x as Record<PropertyKey, unknown>)[key] : undefined;
  return x;
}

function show(x: unknown): string {
  if (typeof x === "function") return `a function`;
  if (typeof x === "object" && x !== null) return `${x.constructor?.name ?? "object"}`;
  return `\`${String(x)}\` (${typeof x})`;
}
