import { DependencyFailureError, describe } from "../contract/errors.js";
import type { TaskFuture } from "./future.js";

/** Failures kept to be named at shutdown; beyond this many only the count grows. */
const KEPT = 10_000;
const NAMED = 3;

/**
 * Failures nobody looked at: a task that failed while nobody awaited it, gave
 * it a callback or depended on it. Looking later (awaiting, `exception()`,
 * a callback, a new dependent) takes it out. At shutdown, one warn-level line
 * per kind names the count and the first few, as asyncio's "Task exception
 * was never retrieved" does, so that no failure passes in silence.
 */
export class Unobserved {
  readonly #kept = new Set<TaskFuture>();
  #overflow = 0;

  /** `f` has just failed: kept if nobody is looking (looking later takes it out at the summary). */
  failed(f: TaskFuture): void {
    if (f._callbacks !== null || f._dependents !== null) return; // a callback, or LOOKED
    if (this.#kept.size < KEPT) this.#kept.add(f);
    else this.#overflow++;
  }

  /** One line per kind of failure nobody looked at; none when every failure was seen. */
  summary(): string[] {
    const own: TaskFuture[] = [];
    const upstream: TaskFuture[] = [];
    for (const f of this.#kept) if (f._callbacks === null) (f._value instanceof DependencyFailureError ? upstream : own).push(f);
    const lines: string[] = [];
    if (own.length + this.#overflow > 0) lines.push(line(own, own.length + this.#overflow, "failed"));
    if (upstream.length > 0) lines.push(line(upstream, upstream.length, "did not run because a dependency failed"));
    return lines;
  }
}

function line(fs: TaskFuture[], count: number, what: string): string {
  const named = fs.slice(0, NAMED).map((f) => {
    const e = f._value;
    const why = e instanceof DependencyFailureError ? `${e.rootTask.name} (${e.rootTask.uid}) failed: ${describe(e.rootCause)}` : describe(e);
    return `${f.name} (${f.uid}): ${why.split("\n")[0]}`;
  });
  const more = count > named.length ? `; and ${count - named.length} more` : "";
  return `${count} ${count === 1 ? "task" : "tasks"} ${what} and nobody looked at ${count === 1 ? "it" : "them"}: ${named.join("; ")}${more}`;
}
