/**
 * The options of each kind of task (zod): their one declaration, with their
 * docs; `task.ts` derives the types from them. zod takes ~40 ms to import, so
 * the engine loads this module in `WorkflowEngine.create()`, never at
 * `import "asyncflow"`.
 */
import { z } from "zod";
import { attemptOptions, validationOptions } from "./contract-options.js";

const common = {
  /** Shown in uids' companions, logs, errors and `graph()`. @default fn.name */
  name: z.string().min(1).optional(),
  /**
   * Milliseconds of running after which the task is reported as slow, by
   * name, once: a warning in the log (and a `TaskSlow` event). Unset: never.
   */
  warnAfter: z.number().int().positive().optional(),
};

export const taskOptionsSchema = z.strictObject({
  ...common,
  ...validationOptions,
  ...attemptOptions,
  /** The backend that runs the task, by its name. @default the engine's first backend */
  backend: z.string().min(1).optional(),
  /**
   * Part of the task's identity for `cache` and `checkpoint`: results are
   * reused while name and version stay the same, whatever edits the body gets.
   * @default a hash of the function's source text (an edited body is recomputed)
   */
  version: z.union([z.string().min(1), z.number()]).optional(),
  /**
   * Within the session, a call with the same identity and inputs as an
   * earlier one reuses its result, or shares its execution while it runs.
   * Only successes are kept. @default false
   */
  cache: z.boolean().optional(),
  /** `false`: never written to, nor taken from, the engine's `checkpoint`. @default true when the engine has one */
  checkpoint: z.boolean().optional(),
});

export const functionOptionsSchema = taskOptionsSchema.extend({
  /**
   * A module (URL or path) that exports the function as `name ?? fn.name`.
   * Backends that run tasks elsewhere (threads, queue) import it there instead
   * of shipping the function's source.
   */
  module: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  /**
   * Worker backends: move ArrayBuffers (and the buffers of typed arrays) in the
   * arguments, and a result that is one, instead of copying them. The sender's
   * buffers are detached afterwards. @default false
   */
  transfer: z.boolean().optional(),
});

export const executableOptionsSchema = taskOptionsSchema.extend({
  /** Working directory of the process. @default the engine's workDir */
  cwd: z.string().min(1).optional(),
  /** Variables added to the parent's environment. */
  env: z.record(z.string(), z.string()).optional(),
  /** Write stdout/stderr to `<workDir>/<session uid>/<task uid>.stdout|.stderr`; the task resolves to the stdout path. */
  captureStdio: z.boolean().optional(),
});

export const blockOptionsSchema = z.strictObject({
  ...common,
  ...validationOptions,
  /** Refused: a block runs in the engine, whatever backends its tasks use. */
  backend: z.never({ error: "a block runs in the engine, not on a backend: give its tasks a `backend` instead" }).optional(),
});
