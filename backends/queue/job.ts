/**
 * The worker side of one job: a function task through the shared remote
 * executor, or a command through the shared process runner; the outcome as
 * the job's return value.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { findUncloneable, fromWire, serializeError, toWire } from "../../lib/contract/codec.js";
import { InvalidTaskError } from "../../lib/contract/errors.js";
import { killGroup, runCommand } from "../process/command.js";
import { executeRemote } from "../remote/execute.js";
import type { CommandJob, JobData, JobOutcome } from "./protocol.js";

/** Runs a job; never rejects: a failure is the outcome's `error`. */
export async function runJob(data: JobData, control: { readonly signal: AbortSignal }, children: Set<ChildProcess>): Promise<JobOutcome> {
  try {
    if ("command" in data) return { value: await runCommandJob(data, control.signal, children) };
    const value = await executeRemote({ ...data, args: data.args.map(fromWire) }, control);
    const bad = findUncloneable(value);
    if (bad !== null) throw new InvalidTaskError(data.name, `${data.uid} returned ${bad}, which cannot be sent back from a queue worker`);
    return { value: toWire(value) };
  } catch (error) {
    return { error: toWire(serializeError(error)) };
  }
}

function runCommandJob(job: CommandJob, signal: AbortSignal, children: Set<ChildProcess>): Promise<string> {
  const cwd = job.cwd ?? process.cwd();
  return runCommand(job, job.command, {
    cwd,
    env: job.env,
    timeout: job.timeout,
    captureDir: job.captureStdio === true ? join(cwd, job.session) : undefined,
    signal,
    children,
  });
}

export function killAll(children: Set<ChildProcess>): void {
  for (const child of children) killGroup(child, "SIGKILL");
}
