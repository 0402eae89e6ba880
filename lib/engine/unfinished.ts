import type { InspectRow } from "../contract/inspect.js";
import { TaskKind, isFinal } from "../contract/states.js";
import { Explainer, duration } from "./explain.js";
import type { TaskFuture } from "./future.js";
import { LiveView } from "./inspect.js";

/** Lines of a report on unfinished tasks, header included. */
const MAX_LINES = 20;
/** Rows of the dump's table. */
const MAX_ROWS = 100;

/**
 * The unfinished tasks nothing else unfinished waits on (neither as a
 * dependent nor as the block that made them): what a user awaits, directly
 * or not. Explaining them covers every wait. O(tasks + edges).
 */
export function blockedRoots(live: readonly TaskFuture[]): TaskFuture[] {
  const held = new Set<TaskFuture>();
  for (const f of live) if (f._def.kind === TaskKind.BLOCK && f._children !== null) for (const c of f._children) held.add(c);
  return live.filter((f) => !held.has(f) && !(f._dependents?.some((d) => !isFinal(d._state)) ?? false));
}

/**
 * Why each blocked root is not done, at most `max` lines: roots held up by the
 * same task under the same name are told once, with how many more there are.
 */
export function explainRoots(live: readonly TaskFuture[], now: number, max = MAX_LINES): string[] {
  const view = new LiveView(live, now);
  const explainer = new Explainer(view);
  const groups = new Map<unknown, { first: TaskFuture; count: number }>();
  for (const f of blockedRoots(live)) {
    const b = explainer.blocker(f);
    const key = `${f.name}\0${b === f ? view.reason(f) : b.uid}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { first: f, count: 1 });
    else g.count++;
  }
  const lines: string[] = [];
  let told = 0;
  for (const { first, count } of groups.values()) {
    if (lines.length === max - 1 && groups.size > max) break;
    lines.push(explainer.explain(first) + (count > 1 ? ` [and ${count - 1} more ${first.name} like it]` : ""));
    told++;
  }
  if (told < groups.size) lines.push(`... and ${groups.size - told} more groups of unfinished tasks: flow.inspect() lists them`);
  return lines;
}

/** The `inspect()` rows as a table, at most MAX_ROWS of them. */
export function table(rows: readonly InspectRow[]): string[] {
  const cells = rows.slice(0, MAX_ROWS).map((r) => [
    r.uid,
    r.name,
    r.reason,
    r.where ?? r.backend,
    duration(r.ageMs),
    duration(r.inStateMs),
    r.waitingFor.length === 0 ? "" : r.waitingFor.slice(0, 3).map((w) => w.uid).join(" ") + (r.waitingFor.length > 3 ? ` +${r.waitingFor.length - 3}` : ""),
  ]);
  const all = [["uid", "name", "reason", "where", "age", "in state", "waiting for"], ...cells];
  const widths = all[0]!.map((_, i) => Math.min(40, Math.max(...all.map((c) => c[i]!.length))));
  const lines = all.map((c) => c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd());
  if (rows.length > MAX_ROWS) lines.push(`... and ${rows.length - MAX_ROWS} more`);
  return lines;
}
