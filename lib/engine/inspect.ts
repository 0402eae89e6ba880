import type { RunDescription } from "../contract/backend.js";
import type { InspectReason, InspectRow } from "../contract/inspect.js";
import { TaskKind, TaskState, isFinal } from "../contract/states.js";
import { backoff } from "./attempts.js";
import { validatingSince } from "./contract.js";
import { eventError } from "./emit.js";
import { sharedCallOf } from "./memo.js";
import { dependentOf, depKeys, type TaskFuture } from "./future.js";

/**
 * The live graph as `inspect()` and `explain()` read it: a task's unfinished
 * inputs (dependencies not final; for a running block, the tasks its body
 * made and awaits) and what its backend says of it. Made once per call:
 * O(live tasks) to build, then O(1) per edge looked at.
 */
export class LiveView {
  readonly now: number;
  readonly #byKey = new Map<number, TaskFuture>();
  readonly #described = new Map<TaskFuture, RunDescription | undefined>();

  /** Live tasks seen. */
  get size(): number {
    return this.#byKey.size;
  }

  constructor(live: Iterable<TaskFuture>, now: number) {
    this.now = now;
    for (const f of live) this.#byKey.set(f._key, f);
  }

  /** Unfinished inputs of `f`, oldest first, each once. O(inputs) when they come in order, as they mostly do. */
  inputs(f: TaskFuture): TaskFuture[] {
    const out: TaskFuture[] = [];
    if (f._run === null) {
      for (const key of depKeys(f._deps)) this.#push(out, this.#byKey.get(key));
      const call = sharedCallOf(f);
      if (call !== undefined) this.#push(out, this.#byKey.get(call._key));
    } else if (f._def.kind === TaskKind.BLOCK && f._children !== null) {
      // What the body awaits: its tasks that none of its other unfinished tasks waits on.
      for (const c of f._children) if (!(c._dependents?.some((d) => !isFinal(dependentOf(d)._state)) ?? false)) this.#push(out, this.#byKey.get(c._key));
    }
    if (out.length < 2) return out;
    out.sort((a, b) => a._id - b._id); // TimSort: linear on sorted input
    return out.filter((x, i) => i === 0 || out[i - 1] !== x);
  }

  #push(out: TaskFuture[], f: TaskFuture | undefined): void {
    if (f !== undefined) out.push(f);
  }

  /** The backend's own account of a submitted run; a backend whose describe throws is not believed. */
  described(f: TaskFuture): RunDescription | undefined {
    if (this.#described.has(f)) return this.#described.get(f);
    const run = f._run;
    let d: RunDescription | undefined;
    try {
      d = run === null ? undefined : f._def.backend.describe?.(run, f._state === TaskState.RUNNING);
    } catch {
      d = undefined;
    }
    this.#described.set(f, d);
    return d;
  }

  reason(f: TaskFuture): InspectReason {
    if (f._run === null) return f._waiting > 0 || sharedCallOf(f) !== undefined ? "WAITING" : validatingSince(f) !== undefined ? "VALIDATING" : backoff(f) === null ? "QUEUED" : "BACKING_OFF";
    return this.described(f)?.reason ?? (f._state === TaskState.RUNNING ? "RUNNING" : "QUEUED");
  }

  /** What runs `f` or what it waits in. */
  where(f: TaskFuture): string {
    const backend = f._def.backend;
    if (f._def.kind === TaskKind.BLOCK) return "the engine";
    const d = this.described(f);
    if (d?.where !== undefined) return d.where;
    const at = (f._run as { info?: { where?: string } } | null)?.info?.where;
    return at === undefined || at === backend.name ? backend.name : `${backend.name} (${at})`;
  }

  /** Since it was made, started, began validating its inputs, or (backing off) failed last. */
  inStateMs(f: TaskFuture): number {
    if (f._state === TaskState.RUNNING && f._started > 0) return this.now - f._started;
    return this.now - (validatingSince(f) ?? backoff(f)?.since ?? f._created);
  }

  /** `attempt 2`, or `attempt 2 of 4` for a task with retries: the running attempt, or the next one while backing off. */
  attempt(f: TaskFuture): string {
    const n = f._run?.attempt ?? f._attempts?.attempt ?? 1;
    const retries = f._def.contract?.retries ?? 0;
    return retries > 0 ? `attempt ${n} of ${retries + 1}` : `attempt ${n}`;
  }

  row(f: TaskFuture): InspectRow {
    const d = this.described(f);
    const row: InspectRow = {
      uid: f.uid,
      name: f.name,
      kind: f._def.kind,
      state: f._state === TaskState.RUNNING ? "RUNNING" : "PENDING",
      reason: this.reason(f),
      backend: f._def.backend.name,
      attempt: f._run?.attempt ?? f._attempts?.attempt ?? 1,
      ageMs: Math.round(this.now - f._created),
      inStateMs: Math.round(this.inStateMs(f)),
      waitingFor: this.inputs(f).map((w) => ({ uid: w.uid, name: w.name, state: w._state === TaskState.RUNNING ? "RUNNING" : "PENDING" })),
      where: f._run === null ? undefined : this.where(f),
    };
    if (d?.position !== undefined) row.position = d.position;
    if (d?.length !== undefined) row.queueLength = d.length;
    if (d?.capacity !== undefined) row.capacity = d.capacity;
    if (d?.hint !== undefined) row.hint = d.hint;
    const retries = f._def.contract?.retries ?? 0;
    if (retries > 0) row.maxAttempts = retries + 1;
    const b = backoff(f);
    if (b !== null) {
      row.nextAttemptAt = performance.timeOrigin + b.due;
      row.lastError = eventError(b.lastError);
    }
    return row;
  }
}
