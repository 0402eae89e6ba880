/**
 * The critical path: the chain of tasks that set the run's end time.
 *
 * It walks back from the task that ended last. A task ended when it did
 * because of its own run, or, for a block, because of the child its body
 * awaited last (the child that ended last). A task started when it did
 * because of the dependency that finished last, when that one finished after
 * the task was made; otherwise because of when it was made, which, inside a
 * block body (or the top-level code), follows the sibling that ended last
 * before it: the body awaited that one, then made this one. Failing that,
 * its block's own start held it, so the walk goes on with that block's inputs.
 *
 * A task that was ready but waited for a free slot on its backend (longer
 * than {@link QUEUED_MS}) was held by the task whose end freed that slot: the
 * one on the same backend that ended last before it started.
 *
 * O(n log n) in tasks plus O(edges).
 */
import type { SessionModel, TracedTask } from "./model.js";

/** A start later than this after being ready counts as queued behind another task, not as dispatch latency. */
export const QUEUED_MS = 0.5;

/** The tasks on the critical path, earliest first; empty when no task finished. */
export function criticalPath(session: SessionModel): TracedTask[] {
  const tasks = session.tasks;
  let last: TracedTask | undefined;
  for (const t of tasks.values()) {
    if (t.end !== undefined && (last === undefined || t.end > last.end! || (t.end === last.end && isAncestor(tasks, t, last)))) last = t;
  }
  if (last === undefined) return [];
  const children = finishedBy(tasks, (t) => t.parent ?? "");
  const onBackend = finishedBy(tasks, (t) => (t.kind === "block" ? "" : t.backend));
  const path: TracedTask[] = [];
  const seen = new Set<string>();

  // Each step moves back in time; `seen` guards against cycles that broken traces could hold.
  let cursor: Step | undefined = { task: last, at: "end" };
  while (cursor !== undefined) {
    const task: TracedTask = cursor.task;
    const at = cursor.at;
    if (at === "end") {
      if (seen.has(task.uid)) break;
      seen.add(task.uid);
      path.push(task);
      const lastChild: TracedTask | undefined = task.kind === "block" ? latestEndingBefore(children.get(task.uid), task.end ?? Infinity, seen) : undefined;
      cursor = lastChild !== undefined ? { task: lastChild, at: "end" } : { task, at: "start" };
      continue;
    }
    cursor = gate(task);
  }

  function gate(task: TracedTask): Step | undefined {
    let dep: TracedTask | undefined;
    for (const uid of task.dependsOn) {
      const d = tasks.get(uid);
      if (d?.end !== undefined && !seen.has(d.uid) && (dep === undefined || d.end > dep.end!)) dep = d;
    }
    const ready = dep !== undefined && dep.end! >= task.created ? dep.end! : task.created;
    if (task.started !== undefined && task.kind !== "block" && task.started - ready > QUEUED_MS) {
      const slot = latestEndingBefore(onBackend.get(task.backend), task.started, seen, task);
      if (slot !== undefined && slot.end! > ready) return { task: slot, at: "end" };
    }
    if (dep !== undefined && dep.end! >= task.created) return { task: dep, at: "end" };
    const sibling = latestEndingBefore(children.get(task.parent ?? ""), task.created, seen, task);
    if (sibling !== undefined) return { task: sibling, at: "end" };
    const parent = task.parent === undefined ? undefined : tasks.get(task.parent);
    return parent === undefined ? undefined : { task: parent, at: "start" };
  }

  return path.sort((a, b) => startOf(a) - startOf(b) || a.created - b.created);
}

/** A point of the walk: a task's end (what set it) or its start (what held it). */
interface Step {
  task: TracedTask;
  at: "end" | "start";
}

function startOf(t: TracedTask): number {
  return t.started ?? t.end ?? t.created;
}

function isAncestor(tasks: Map<string, TracedTask>, a: TracedTask, b: TracedTask): boolean {
  for (let p = b.parent; p !== undefined; p = tasks.get(p)?.parent) if (p === a.uid) return true;
  return false;
}

/** Finished tasks grouped by `key`, each group sorted by end time. */
function finishedBy(tasks: Map<string, TracedTask>, key: (t: TracedTask) => string): Map<string, TracedTask[]> {
  const by = new Map<string, TracedTask[]>();
  for (const t of tasks.values()) {
    if (t.end === undefined) continue;
    const k = key(t);
    const list = by.get(k);
    if (list === undefined) by.set(k, [t]);
    else list.push(t);
  }
  for (const list of by.values()) list.sort((a, b) => a.end! - b.end!);
  return by;
}

/** The task of `sorted` (by end) that ended last at or before `limit`, not yet on the path and not `except`. */
function latestEndingBefore(sorted: TracedTask[] | undefined, limit: number, seen: ReadonlySet<string>, except?: TracedTask): TracedTask | undefined {
  if (sorted === undefined) return undefined;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.end! <= limit) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0; i--) {
    const t = sorted[i]!;
    if (t !== except && !seen.has(t.uid)) return t;
  }
  return undefined;
}
