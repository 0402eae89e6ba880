/**
 * The worker side of one job: a function task through the shared remote
 * executor, or a command through the shared process runner; the outcome as
 * the job's return value.
 */
import type { ChildProcess } from "node:child_process";
import { fromWire, serializeError, toWire } from "../../lib/contract/codec.js";
import { commandOptions, runCommand } from "../process/command.js";
import { checkResult } from "../remote/clone.js";
import { executeRemote } from "../remote/execute.js";
import type { CommandJob, JobData, JobOutcome } from "./protocol.js";

/** Runs a job; never rejects: a failure is the outcome's `error`. */
export async function runJob(data: JobData, control: { readonly signal: AbortSignal }, children: Set<ChildProcess>): Promise<JobOutcome> {
  try {
    if ("command" in data) return { value: await runCommandJob(data, control.signal, children) };
    const value = await executeRemote({ ...data, args: data.args.map(fromWire) }, control);
    checkResult(data, value, "a queue worker");
    return { value: toWire(value) };
  } catch (error) {
    return { error: toWire(serializeError(error)) };
  }
}

// The worker's cwd stands in for the engine's workDir: captured stdio goes under `<cwd>/<session>/`.
function runCommandJob(job: CommandJob, signal: AbortSignal, children: Set<ChildProcess>): Promise<string> {
  return runCommand(job, job.command, commandOptions(job, { workDir: job.cwd ?? process.cwd(), session: job.session }, signal, children));
}
