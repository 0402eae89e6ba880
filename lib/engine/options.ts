/**
 * The engine's option schema (zod): the one declaration of its options, with
 * their docs and defaults; `EngineOptions` is derived from it. Task kinds keep
 * theirs in the contract (`task-options.ts`), backends next to their code.
 *
 * zod takes ~40 ms to import, so this module is loaded by
 * `WorkflowEngine.create()`, never by `import "asyncflow"`.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { isExecutionBackend, type ExecutionBackend } from "../contract/backend.js";
import type { LoggerLike } from "../contract/log.js";

const backends = z.custom<ExecutionBackend | ExecutionBackend[]>(
  (x) => isExecutionBackend(x) || (Array.isArray(x) && x.length > 0 && x.every(isExecutionBackend)),
  { message: "expected an execution backend (an object with name, attach, submit, cancel and shutdown) or a non-empty array of them" },
);

export const engineOptionsSchema = z.strictObject({
  /** One backend or several; the first is the default route. @default new LocalBackend() */
  backend: backends.optional(),
  /** Run no task body and spawn no process: every backend becomes a NoopBackend of the same name. @default false */
  dryRun: z.boolean().default(false),
  /** The session id. @default "asyncflow.session.<hex8>" */
  uid: z.string().min(1).default(() => `asyncflow.session.${randomBytes(4).toString("hex")}`),
  /** Where captured stdio goes (under `<workDir>/<uid>/`). @default process.cwd() */
  workDir: z.string().min(1).default(() => process.cwd()),
  /** On SIGINT/SIGTERM shut down gracefully, then exit with 130/143. @default true */
  handleSignals: z.boolean().default(true),
  /** How many finished tasks `graph()` remembers; 0 keeps none. @default 10000 */
  history: z.number().int().min(0).default(10_000),
  /**
   * Append every lifecycle event to this file, one JSON object per line
   * (flushed every second while events arrive, at shutdown, on SIGINT/SIGTERM and at exit).
   * @default process.env.ASYNCFLOW_TRACE
   */
  trace: z.string().min(1).optional(),
  /**
   * Where log lines go instead of stderr: any object with `debug/info/warn/error`
   * (pino, winston, console), called as `logger.warn({ sessionId, taskId, workflowId }, message)`.
   * @default lines on stderr, text or (ASYNCFLOW_LOG_FORMAT=json) JSON
   */
  logger: z
    .custom<LoggerLike>((x) => typeof x === "object" && x !== null && ["debug", "info", "warn", "error"].every((m) => typeof (x as Record<string, unknown>)[m] === "function"), {
      message: "expected a logger: an object with debug, info, warn and error methods (pino, winston, console)",
    })
    .optional(),
  /**
   * Milliseconds with unfinished tasks and no completion (nor any report from a
   * backend) after which the engine warns, with what holds the flow up, and
   * emits `FlowStalled`. Unset: never.
   */
  stallTimeout: z.number().int().positive().optional(),
  /**
   * The signal that prints `inspect()` and what holds each unfinished task up
   * to stderr, without disturbing the flow (`kill -USR2 <pid>`); installed only
   * while the engine is open. `false`: none. SIGUSR1 is Node's (the inspector).
   * @default "SIGUSR2"
   */
  dumpSignal: z.union([z.literal(false), z.enum(["SIGUSR2", "SIGHUP", "SIGWINCH"])]).default("SIGUSR2"),
  /**
   * Write every task's result durably, before its future settles, to this
   * file (or `{ path, sync, compact }`), and on the next run take what it
   * holds instead of running the task again. See the README's "resume".
   * @default false
   * @example checkpoint: "run.ckpt"
   */
  checkpoint: z
    .union([
      z.literal(false),
      z.string().min(1),
      z.strictObject({
        path: z.string().min(1),
        /** fsync each group of records before the futures settle (durable against power loss, not only crashes). @default true */
        sync: z.boolean().default(true),
        /** At shutdown, rewrite the file with only this run's records when it holds more than twice as many. @default true */
        compact: z.boolean().default(true),
      }),
    ])
    .default(false),
});

/** The engine's checkpoint settings once resolved. */
export type CheckpointOptions = { path: string; sync: boolean; compact: boolean };

export { blockOptionsSchema, executableOptionsSchema, functionOptionsSchema } from "../contract/task-options.js";
