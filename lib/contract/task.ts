/**
 * Task options as every backend sees them, and what an executable task's
 * function returns. The option types are derived from their zod schemas
 * (`task-options.ts`, where each option is documented); `import type` keeps
 * zod out of `import "asyncflow"`.
 */
import type { z } from "zod";
import type { blockOptionsSchema, executableOptionsSchema, functionOptionsSchema, taskOptionsSchema } from "./task-options.js";

/** Options every function and executable task takes: `name`, `backend`. */
export type TaskOptions = z.input<typeof taskOptionsSchema>;

/** Options of `flow.functionTask`: `name`, `backend`, `module`, `transfer`. */
export type FunctionTaskOptions = z.input<typeof functionOptionsSchema>;

/** Options of `flow.executableTask`: `name`, `backend`, `cwd`, `env`, `timeout`, `captureStdio`. */
export type ExecutableTaskOptions = z.input<typeof executableOptionsSchema>;

/** Options of `flow.block`: only `name` (a block runs in the engine). */
export type BlockOptions = z.input<typeof blockOptionsSchema>;

/** Every option a run may carry, as a backend sees them. */
export type AnyTaskOptions = FunctionTaskOptions & ExecutableTaskOptions;

/** What an executable task's function returns: a shell command line, or an argv array run without a shell. */
export type Command = string | readonly string[];
