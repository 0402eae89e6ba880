import type { SerializedError } from "../../lib/contract/codec.js";
import type { RemoteTask } from "../remote/protocol.js";

/** Small tasks grouped into one pool task; the worker runs them in order. */
export interface ThreadBatch {
  readonly batch: readonly RemoteTask[];
}

/** One batch member's result. */
export type ThreadOutcome = { readonly value: unknown } | { readonly error: SerializedError };

/** What a worker throws when a run fails: plain data, so that every field survives Piscina. */
export interface ThreadFailure {
  readonly asyncflowFailure: SerializedError;
}

export function isThreadFailure(x: unknown): x is ThreadFailure {
  return typeof x === "object" && x !== null && "asyncflowFailure" in x;
}
