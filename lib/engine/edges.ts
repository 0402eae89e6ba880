import { TaskState } from "../contract/states.js";
import { TaskFuture } from "./future.js";

// The key of Edge's type-only member. No value has it, and it is required: in
// the published declarations, where the internal fields are stripped, an Edge
// of only an optional `_receives` was a type `{}` fitted, so any parameter took `{}`.
declare const receives: unique symbol;

/**
 * Per-edge failure policies: an argument wrapped as `settled(fut)` or
 * `optional(fut, fallback)` keeps its edge (the task still waits for `fut`,
 * `graph()` still shows it) but a failed or cancelled `fut` no longer fails or
 * cancels the task: it receives the outcome, or the fallback.
 */

/** What `settled(fut)` hands the task: `fut`'s outcome. A cancelled `fut` is rejected with its `TaskCancelledError`. */
export type Settled<T> = { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown };

/**
 * An argument that stands for a future under a per-edge policy; the task
 * receives a `V`. Made by {@link settled} and {@link optional}.
 */
export class Edge<V = unknown> {
  /** @internal */ readonly future: TaskFuture;
  /** @internal true: hand `Settled<T>`; false: hand the value or `fallback` */ readonly settled: boolean;
  /** @internal */ readonly fallback: unknown;
  /** Only for the types: what the task receives. */
  declare readonly [receives]: V;

  private constructor(future: TaskFuture, settled: boolean, fallback: unknown) {
    this.future = future;
    this.settled = settled;
    this.fallback = fallback;
  }

  /** @internal */
  static _make<V>(future: TaskFuture, settled: boolean, fallback: unknown): Edge<V> {
    return new Edge<V>(future, settled, fallback);
  }

  /** @internal what the task receives once `future` is final */
  _value(): unknown {
    const f = this.future;
    const ok = f._state === TaskState.DONE;
    if (this.settled) return ok ? { status: "fulfilled", value: f._value } : { status: "rejected", reason: f._value };
    return ok ? f._value : this.fallback;
  }
}

/**
 * Hands the task `{ status: "fulfilled", value }` or `{ status: "rejected", reason }`
 * instead of failing it when `future` fails or is cancelled.
 * @example await summary(settled(fetchPage(url)))
 */
export function settled<T>(future: TaskFuture<T>): Edge<Settled<T>> {
  return Edge._make(check(future as TaskFuture, "settled"), true, undefined);
}

/**
 * Hands the task `fallback` instead of failing it when `future` fails or is cancelled.
 * @example await summary(optional(fetchPage(url), "<missing>"))
 */
export function optional<T, F>(future: TaskFuture<T>, fallback: F): Edge<T | F> {
  return Edge._make(check(future as TaskFuture, "optional"), false, fallback);
}

function check(future: TaskFuture, fn: string): TaskFuture {
  if (future instanceof TaskFuture) return future;
  const got: unknown = future;
  throw new TypeError(`${fn}() expects a TaskFuture, got ${got === null ? "null" : typeof got}`);
}
