/**
 * What travels through the queue, and the engine's side of it: a TaskRun into
 * a job, a worker's reply into the run's outcome (schema.ts checks jobs on the
 * worker's side, job.ts runs them).
 *
 * A job's data is an envelope `{ v, s, p, sig? }`: the session, the payload as
 * a JSON string (what is signed is exactly what is parsed), and the HMAC of
 * `jobId, session, payload` when engine and workers share a secret. A reply is
 * `{ v, o, sig? }`: the outcome as a JSON string and the HMAC of
 * `jobId, outcome`; a large outcome stays in the job's hash (`big`), not in the
 * event stream.
 */
import { deserializeFailure, fromWire, type SerializedError } from "../../lib/contract/codec.js";
import { AsyncflowError } from "../../lib/contract/errors.js";
import type { TaskRun } from "../../lib/contract/run.js";
import type { Command } from "../../lib/contract/task.js";
import type { ExecOptions } from "../process/command.js";
import type { Signer } from "./sign.js";

// 3: a function job carries its arguments as one wire value (2 carried each alone): a worker of one refuses the other's jobs.
export const PROTOCOL = 3;
/** Outcomes longer than this (bytes of JSON) stay in the job's hash instead of travelling in the event stream. */
export const INLINE_OUTCOME = 1024;
/** The job-hash field holding a large outcome. */
export const OUTCOME_FIELD = "afout";

/** A job's data as BullMQ stores it. */
export interface JobEnvelope {
  readonly v: number;
  readonly s: string;
  readonly p: string;
  readonly sig?: string;
}

/** What a worker returns for a job. */
export interface ReplyEnvelope {
  readonly v: number;
  /** The outcome as JSON; absent when it is kept in the job's hash (`big`). */
  readonly o?: string;
  readonly big?: true;
  readonly sig?: string;
  /** The worker that ran it and its count of the job's deliveries: how a start the engine has not yet placed is told, at no round trip. */
  readonly w?: string;
  readonly d?: number;
}

interface PayloadBase {
  readonly uid: string;
  readonly name: string;
  readonly attempt: number;
  /** Times the engine sent this job again after Redis lost it once started: added to the worker's count of deliveries. */
  readonly resent?: number;
  /** W3C trace context of the run, passed through to the body's context. */
  readonly trace?: Readonly<Record<string, string>>;
}

/**
 * A function task: looked up by `name` among the worker's registered
 * functions; `module` and `source` are what workers that allow them may use
 * instead.
 */
export interface FunctionPayload extends PayloadBase {
  readonly kind: "function";
  /** The arguments as one wire value (`toWire` of the array), so that an object passed twice arrives as one, as in a call. */
  readonly args: unknown;
  readonly module?: { readonly href: string; readonly export: string };
  readonly source?: { readonly expression: string; readonly context: boolean };
}

/** An executable task: the command, made by the engine, with what the worker needs to run it. */
/** `cwd` defaults to the worker's; captured stdout and stderr go in files under `<cwd>/<session>/`, and the result is the stdout file's path there. */
export interface CommandPayload extends PayloadBase, ExecOptions {
  readonly kind: "command";
  readonly command: Command;
}

export type Payload = FunctionPayload | CommandPayload;

/** What a worker's body ended with: the result, or its SerializedError, through `toWire`. */
export type JobOutcome = { readonly value: unknown } | { readonly error: unknown };

/** An executable task's payload: the command, made by the engine, with the options the worker needs to run it. */
export function commandPayload(run: TaskRun, command: Command): CommandPayload {
  const o = run.options;
  return {
    kind: "command",
    uid: run.uid,
    name: run.name,
    attempt: run.attempt,
    command,
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
    ...(o.captureStdio === true ? { captureStdio: true } : {}),
    ...(run.trace === undefined ? {} : { trace: run.trace }),
  };
}

/** The job's data for a payload, signed when there is a secret. */
export function envelope(jobId: string, session: string, payload: Payload, signer: Signer | null): JobEnvelope {
  const p = JSON.stringify(payload);
  return signer === null ? { v: PROTOCOL, s: session, p } : { v: PROTOCOL, s: session, p, sig: signer.sign(jobId, session, p) };
}

/** The reply for an outcome: inline, or `big` (the caller keeps `o` in the job's hash). */
export function reply(jobId: string, outcome: JobOutcome, signer: Signer | null, ran: { readonly w: string; readonly d: number }): { reply: ReplyEnvelope; big: string | null } {
  const o = JSON.stringify(outcome);
  const sig = signer === null ? {} : { sig: signer.sign(jobId, o) };
  return o.length > INLINE_OUTCOME ? { reply: { v: PROTOCOL, big: true, ...sig, ...ran }, big: o } : { reply: { v: PROTOCOL, o, ...sig, ...ran }, big: null };
}

/** Where a reply says its job ran, as a start read from Redis would (a label, not part of the signed outcome); null if it does not say. */
export function ranAt(returned: unknown): { readonly kind: "active"; readonly where: string; readonly delivery: number } | null {
  const r = returned as ReplyEnvelope | null;
  if (typeof r !== "object" || r === null || typeof r.w !== "string" || typeof r.d !== "number") return null;
  return { kind: "active", where: r.w, delivery: r.d };
}

/** Whether a reply's outcome is kept in the job's hash, to be fetched. */
export function isBig(returned: unknown): boolean {
  return typeof returned === "object" && returned !== null && (returned as ReplyEnvelope).big === true;
}

/**
 * A worker's reply as the run's final state and value. `stored` is the
 * outcome fetched from the job's hash for a `big` reply. A reply that is not
 * an asyncflow worker's, or whose signature does not hold, fails the task, saying so.
 */
export function readReply(run: TaskRun, jobId: string, returned: unknown, signer: Signer | null, stored?: string | null): ["DONE" | "FAILED", unknown, rejected?: true] {
  const r = returned as ReplyEnvelope | null;
  try {
    if (r === null || typeof r !== "object" || r.v !== PROTOCOL) throw new TypeError(`expected an asyncflow reply (protocol ${PROTOCOL}), got ${r === null ? "null" : typeof r === "object" ? `protocol ${String(r.v)}` : typeof r}`);
    const o = r.big === true ? stored : r.o;
    if (typeof o !== "string") throw new TypeError(r.big === true ? "its result is gone from the job" : "the reply holds no outcome");
    if (signer !== null && !signer.verify(r.sig, jobId, o)) {
      return ["FAILED", new AsyncflowError(`${run.uid} (${run.name}): result rejected: ${r.sig === undefined ? "unsigned" : "bad signature"} (job ${jobId}; is every worker given the same secret?)`), true];
    }
    const outcome = JSON.parse(o) as JobOutcome;
    if ("value" in outcome) return ["DONE", fromWire(outcome.value)];
    if ("error" in outcome) return ["FAILED", deserializeFailure(fromWire(outcome.error) as SerializedError)];
    throw new TypeError("expected { value } or { error }");
  } catch (error) {
    return ["FAILED", new AsyncflowError(`${run.uid} (${run.name}): the worker's reply cannot be read (is it an asyncflow worker of this version?): ${(error as Error).message}`, { cause: error })];
  }
}
