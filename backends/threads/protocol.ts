import type { SerializedError } from "../../lib/contract/codec.js";
import type { RemoteTask } from "../remote/protocol.js";

/** Small tasks grouped into one pool task; the worker runs them in order. */
export interface ThreadBatch {
  readonly batch: readonly RemoteTask[];
  /** [0]: how many members the thread began (shared memory, read if the thread dies or is terminated). */
  readonly progress: Int32Array;
}

/** One batch member's result. */
export type ThreadOutcome = { readonly value: unknown } | { readonly error: SerializedError };

/**
 * What a worker returns, naming its thread: the result may overtake the
 * start message (they travel on different ports), and RUNNING still names
 * the thread. A moved result (`transfer`) travels bare, for Piscina to see it.
 */
export type ThreadResult = { readonly value: unknown; readonly thread: number } | { readonly outcomes: ThreadOutcome[]; readonly thread: number };

/** What a worker throws when a run fails: plain data, so that every field survives Piscina. */
export interface ThreadFailure {
  readonly asyncflowFailure: SerializedError;
  readonly thread: number;
}

export function isThreadFailure(x: unknown): x is ThreadFailure {
  return typeof x === "object" && x !== null && "asyncflowFailure" in x;
}

/**
 * What a worker posts (through Piscina's `message` event) as it begins a pool
 * task: its (first) run's startKey and the thread's id, so that RUNNING is
 * reported when a body really starts, naming the thread.
 */
export interface ThreadStarted {
  readonly asyncflowStarted: string;
  readonly thread: number;
}

/** A pool task's start, named by its first run: uid and attempt (a retry keeps the uid, and may start while the last attempt's thread still ends). */
export function startKey(run: { readonly uid: string; readonly attempt: number }): string {
  return `${run.uid}/${run.attempt}`;
}

export function isThreadStarted(x: unknown): x is ThreadStarted {
  return typeof x === "object" && x !== null && "asyncflowStarted" in x;
}

/**
 * What the engine broadcasts on the pool's channel (an array of them, one per
 * run, for a burst of cancels) when it cancels a run or its attempt times
 * out: the thread running that attempt aborts its body's signal with the
 * reason.
 */
export interface ThreadAbort {
  readonly uid: string;
  readonly attempt: number;
  readonly reason: SerializedError;
}
