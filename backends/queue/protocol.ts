import type { Command } from "../../lib/task.js";
import type { RemoteTask } from "../remote/protocol.js";

/**
 * A job's data: a function task (the RemoteTask, each argument through
 * `toWire`, so that arguments keep their types) or an executable task's
 * command, made by the engine and run by the worker.
 */
export type JobData = RemoteTask | CommandJob;

export interface CommandJob {
  readonly uid: string;
  readonly name: string;
  readonly attempt: number;
  readonly command: Command;
  /** The worker's working directory when not given. */
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly timeout?: number;
  /** Capture stdout and stderr in files under the worker's `<cwd>/<session>/`; the result is the stdout file's path there. */
  readonly captureStdio?: boolean;
  readonly session: string;
}

/** What a queue worker returns for a job: the body's result, or its SerializedError, through `toWire`. */
export type JobOutcome = { readonly value: unknown } | { readonly error: unknown };
