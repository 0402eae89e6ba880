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
});

export { blockOptionsSchema, executableOptionsSchema, functionOptionsSchema } from "../contract/task-options.js";
