/**
 * Task options as every backend sees them, and what an executable task's
 * function returns. The option types are derived from their zod schemas
 * (`task-options.ts`, where each option is documented); `import type` keeps
 * zod out of `import "asyncflow"`.
 */
import type { z } from "zod";
import type { attemptOptionsSchema, validationOptionsSchema } from "./contract-options.js";
import type { blockOptionsSchema, executableOptionsSchema, functionOptionsSchema, taskOptionsSchema } from "./task-options.js";

/** `inputs`, `output`, `label`, `description`: every kind of task takes them (`contract-options.ts`). */
export type ValidationOptions = z.input<typeof validationOptionsSchema>;
/** `exitCodes`, `retries`, `retryDelay`, `retryJitter`, `retryDelayMax`, `retryOn`, `timeout`, `deadline` (`contract-options.ts`). */
export type AttemptOptions = z.input<typeof attemptOptionsSchema>;

/** Options every function and executable task takes: `name`, `backend`, and the contract's (validation, exit codes, retries, limits). */
export type TaskOptions = z.input<typeof taskOptionsSchema>;

/** Options of `flow.functionTask`: `name`, `backend`, `module`, `transfer`. */
export type FunctionTaskOptions = z.input<typeof functionOptionsSchema>;

/** Options of `flow.executableTask`: those of every task, and `cwd`, `env`, `captureStdio`. */
export type ExecutableTaskOptions = z.input<typeof executableOptionsSchema>;

/** Options of `flow.block`: `name` and the validation options (a block runs in the engine). */
export type BlockOptions = z.input<typeof blockOptionsSchema>;

/** Every option a run may carry, as a backend sees them. */
export type AnyTaskOptions = FunctionTaskOptions & ExecutableTaskOptions;

/** What an executable task's function returns: a shell command line, or an argv array run without a shell. */
export type Command = string | readonly string[];
