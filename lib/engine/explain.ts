import { DependencyFailureError, TaskCancelledError, describe } from "../contract/errors.js";
import { TaskKind, TaskState, isFinal } from "../contract/states.js";
import { backoff } from "./attempts.js";
import { depKeys, type TaskFuture } from "./future.js";
import type { LiveView } from "./inspect.js";
import { sharedCallOf } from "./memo.js";

/** Hops of a chain of single waits spelt out before the rest is counted. */
const HOPS_SHOWN = 3;
/** Groups of a fan-in spelt out before the rest is counted. */
const GROUPS_SHOWN = 3;

const label = (f: { name: string; uid: string }): string => `${f.name} (${f.uid})`;

/** `12.4 s`, `350 ms`. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Says why a task is not done, following the chain of waits down to what
 * holds it up (`flow.explain()`). Each task's blocker (the task at the end of
 * the chain through its oldest unfinished input) is found once and kept, so
 * explaining many tasks of one graph costs O(tasks + edges) in all.
 */
export class Explainer {
  readonly #view: LiveView;
  readonly #blockers = new Map<TaskFuture, TaskFuture>();

  constructor(view: LiveView) {
    this.#view = view;
  }

  explain(f: TaskFuture): string {
    if (isFinal(f._state)) return ended(f);
    const inputs = this.#view.inputs(f);
    if (inputs.length === 0) return `${label(f)} is ${f._state}: ${this.#leaf(f)}`;
    const call = sharedCallOf(f);
    if (call !== undefined && inputs.length === 1) return `${label(f)} is ${f._state}: it shares the running call of ${label(call)} (cache: true): ${this.#leaf(call)}`;
    return `${label(f)} is ${f._state}: ${f._run === null ? "it" : "its body"} waits on ${this.#waits(f, inputs)}`;
  }

  /** The task at the end of `f`'s chain of waits through oldest inputs; O(1) amortized. */
  blocker(f: TaskFuture): TaskFuture {
    const path = new Set<TaskFuture>();
    let at = f;
    let found: TaskFuture | undefined;
    for (;;) {
      found = this.#blockers.get(at);
      if (found !== undefined) break;
      const next = this.#view.inputs(at)[0];
      // A cycle (a block's task that takes the block's own future) ends at the task that closes it.
      if (next === undefined || path.has(next) || next === at) {
        found = at;
        break;
      }
      path.add(at);
      at = next;
    }
    for (const p of path) this.#blockers.set(p, found);
    this.#blockers.set(at, found);
    return found;
  }

  // `inputs`: the unfinished inputs of `f`, at least one. Follows single waits, then groups a fan-in.
  #waits(f: TaskFuture, inputs: TaskFuture[]): string {
    let text = "";
    let at = f;
    let ins = inputs;
    for (let hop = 0; ins.length === 1 && hop <= this.#view.size; hop++) {
      const d = ins[0]!;
      const next = this.#view.inputs(d);
      if (hop === HOPS_SHOWN && next.length === 1) {
        let skipped = 0;
        let end = d;
        for (let n = next; n.length === 1 && skipped <= this.#view.size; n = this.#view.inputs(end)) {
          end = n[0]!;
          skipped++;
        }
        text += `a chain of ${skipped + 1} tasks down to `;
        at = end;
        ins = [end];
        continue;
      }
      text += label(d);
      if (next.length === 0) return text + `: ${this.#leaf(d)}`;
      text += ", which waits on ";
      at = d;
      ins = next;
    }
    return text + this.#fanIn(at, ins);
  }

  #fanIn(f: TaskFuture, inputs: TaskFuture[]): string {
    const of = f._run === null ? `${inputs.length} of ${f._deps === null ? inputs.length : depKeys(f._deps).length} inputs` : `${inputs.length} of its tasks`;
    // Inputs held up by the same task are told once; inputs that are themselves what holds up, by name and reason.
    const groups = new Map<unknown, { blocker: TaskFuture; members: TaskFuture[] }>();
    for (const u of inputs) {
      const b = this.blocker(u);
      const key = b === u ? `${u.name}\0${this.#view.reason(u)}` : b;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { blocker: b, members: [u] });
      else g.members.push(u);
    }
    const sorted = [...groups.values()].sort((a, b) => b.members.length - a.members.length);
    const parts = sorted.slice(0, GROUPS_SHOWN).map(({ blocker, members }) => {
      const first = members[0]!;
      if (blocker === first) {
        return members.length === 1 ? `${label(first)} is ${this.#leaf(first)}` : `${members.length} are ${first.name} tasks like ${first.uid}: ${this.#leaf(first)}`;
      }
      const who = members.length === inputs.length ? `all ${members.length} wait` : members.length === 1 ? `${label(first)} waits` : `${members.length} of them wait`;
      return `${who} on ${label(blocker)}: ${this.#leaf(blocker)}`;
    });
    const rest = sorted.slice(GROUPS_SHOWN);
    if (rest.length > 0) {
      const n = rest.reduce((s, g) => s + g.members.length, 0);
      parts.push(`${n} more wait on ${rest.length} other task${rest.length === 1 ? "" : "s"}`);
    }
    return `${of}; ${parts.join("; ")}`;
  }

  /** What a task that waits on no other task is doing. */
  #leaf(f: TaskFuture): string {
    const v = this.#view;
    if (f._run === null) {
      const b = backoff(f);
      if (v.reason(f) === "VALIDATING") return `VALIDATING its arguments (an asynchronous inputs schema) for ${duration(v.inStateMs(f))}`;
      if (b === null) return `ready, about to be handed to ${f._def.backend.name}`;
      return `BACKING_OFF, ${v.attempt(f)} in ${duration(Math.max(0, b.due - v.now))} after ${describe(b.lastError)}`;
    }
    const since = `for ${duration(v.inStateMs(f))}`;
    if (f._def.kind === TaskKind.BLOCK) return `RUNNING in the engine ${since} (its body awaits something that is not a task of this engine)`;
    const d = v.described(f);
    const attempt = v.attempt(f);
    switch (v.reason(f)) {
      case "RUNNING":
        return `RUNNING on ${v.where(f)} ${since}, ${attempt}`;
      case "STALLED":
        return `STALLED on ${v.where(f)} ${since}, ${attempt}${d?.hint === undefined ? "" : ` (${d.hint})`}`;
      case "NO_WORKER":
        return `QUEUED on ${v.where(f)}${d?.hint === undefined ? " (no worker serves it)" : ` (${d.hint})`}`;
      default: {
        const figures = [
          d?.position !== undefined ? `position ${d.position}${d.length === undefined ? "" : ` of ${d.length}`}` : d?.length !== undefined ? `${d.length} waiting` : "",
          d?.capacity !== undefined ? `${d.capacity} at a time` : "",
        ].filter((s) => s !== "");
        if (d?.hint !== undefined) figures.push(d.hint);
        return `QUEUED on ${v.where(f)} ${since}${figures.length === 0 ? "" : ` (${figures.join(", ")})`}`;
      }
    }
  }
}

/** How a final task ended; for a failure, the task that failed first and its error. */
function ended(f: TaskFuture): string {
  const value = f._value;
  if (f._state === TaskState.DONE) return `${label(f)} is DONE`;
  if (f._state === TaskState.CANCELLED) return `${label(f)} was CANCELLED: ${value instanceof TaskCancelledError ? value.reason : describe(value)}`;
  if (value instanceof DependencyFailureError) {
    // Its own dependency failed without running too (the error it failed with): that one is the way to the root cause.
    const direct = value.cause instanceof DependencyFailureError ? value.cause : null;
    const via = direct === null ? "" : ` through ${label({ name: direct.taskName, uid: direct.taskUid })}`;
    return `${label(f)} FAILED without running: root cause ${label(value.rootTask)} failed${via} with ${describe(value.rootCause)}`;
  }
  return `${label(f)} FAILED: ${describe(value)}`;
}
