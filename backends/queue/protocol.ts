/** What travels through the queue, and the engine's side of it: a TaskRun into a job, a worker's reply into the run's outcome (job.ts is the worker's side). */
import { deserializeError, findUncloneable, fromWire, toWire, type SerializedError } from "../../lib/contract/codec.js";
import { AsyncflowError, InvalidTaskError } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { Command } from "../../lib/contract/task.js";
import type { FunctionRefs, RemoteTask } from "../remote/protocol.js";

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

/** A function task's job, or the error naming the argument that cannot be sent. */
export function functionJob(run: TaskRun, refs: FunctionRefs): RemoteTask | InvalidTaskError {
  for (let i = 0; i < run.args.length; i++) {
    const bad = findUncloneable(run.args[i]);
    if (bad !== null) return new InvalidTaskError(run.name, `${run.uid}: argument args[${i}] cannot be sent to a queue worker: it is or holds ${bad}`);
  }
  return refs.task(run, run.args.map(toWire));
}

/** An executable task's job: the command, made by the engine, with the options the worker needs to run it. */
export function commandJob(run: TaskRun, command: Command, session: string): CommandJob {
  const o = run.options;
  return {
    uid: run.uid,
    name: run.name,
    attempt: run.attempt,
    command,
    session,
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
    ...(o.captureStdio === true ? { captureStdio: true } : {}),
  };
}

/** A worker's reply as the run's final state and value; a reply that is not a JobOutcome fails the task, saying so. */
export function readOutcome(run: TaskRun, returned: unknown): ["DONE" | "FAILED", unknown] {
  const outcome = returned as JobOutcome | null;
  try {
    if (outcome !== null && typeof outcome === "object" && "value" in outcome) return ["DONE", fromWire(outcome.value)];
    if (outcome !== null && typeof outcome === "object" && "error" in outcome) return ["FAILED", deserializeError(fromWire(outcome.error) as SerializedError)];
    throw new TypeError(`expected { value } or { error }, got ${typeof outcome}`);
  } catch (error) {
    return ["FAILED", new AsyncflowError(`${run.uid} (${run.name}): the worker's reply cannot be read (is it an asyncflow-worker of this version?)`, { cause: error })];
  }
}
