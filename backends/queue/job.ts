/**
 * The worker side of one job, once checked (schema.ts): a function task
 * through what the worker trusts (trust.ts) and the shared body runner, or a
 * command through the shared process runner; the outcome as the job's reply.
 */
import type { ChildProcess } from "node:child_process";
import { serializeError, toWire } from "../../lib/contract/codec.js";
import { commandOptions, runCommand } from "../process/command.js";
import { checkResult } from "../remote/clone.js";
import { freeVariableError } from "../remote/protocol.js";
import { runBody } from "../remote/execute.js";
import type { CommandPayload, JobOutcome, Payload } from "./protocol.js";
import type { Trust } from "./trust.js";

export interface JobControl {
  readonly signal: AbortSignal;
  readonly session: string;
  readonly delivery: number;
  readonly children: Set<ChildProcess>;
}

/** Runs a job with its arguments (decoded by readJob); never rejects: a failure is the outcome's `error`. */
export async function runJob(job: Payload, args: unknown[], trust: Trust, control: JobControl): Promise<JobOutcome> {
  try {
    if (job.kind === "command") {
      trust.command(job);
      return { value: await runCommandJob(job, control) };
    }
    const { fn, context, shipped } = await trust.function(job);
    let value: unknown;
    try {
      value = await runBody(fn, { uid: job.uid, name: job.name, attempt: job.attempt, args, delivery: control.delivery, trace: job.trace }, control, context);
    } catch (error) {
      const missing = error instanceof ReferenceError && shipped ? /^(\S+) is not defined$/.exec(error.message) : null;
      throw missing ? freeVariableError(job.name, [missing[1]!]) : error;
    }
    checkResult(job, value, "a queue worker");
    return { value: toWire(value) };
  } catch (error) {
    return { error: toWire(serializeError(error)) };
  }
}

// The worker's cwd stands in for the engine's workDir: captured stdio goes under `<cwd>/<session>/`.
function runCommandJob(job: CommandPayload, control: JobControl): Promise<string> {
  return runCommand(job, job.command, commandOptions(job, { workDir: job.cwd ?? process.cwd(), session: control.session }, control.signal, control.children, job.trace));
}
