/** Per task name: how many, how long they ran and waited, how many failed or retried. */
import type { SessionModel, TracedTask } from "./model.js";

export interface Spread {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export interface NameStats {
  name: string;
  count: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Without a terminal event in the trace. */
  unfinished: number;
  /** Retries and redeliveries, summed over the tasks. */
  retries: number;
  /** Over the tasks that started and ended; undefined when none did. */
  duration: Spread | undefined;
  /** Created to started, over the tasks that started. */
  wait: Spread | undefined;
  /** Sum of durations: what the table is sorted by. */
  totalMs: number;
}

/** One row per task name, the most time-consuming first. O(n log n). */
export function statsByName(session: SessionModel): NameStats[] {
  const groups = new Map<string, TracedTask[]>();
  for (const t of session.tasks.values()) {
    const list = groups.get(t.name);
    if (list === undefined) groups.set(t.name, [t]);
    else list.push(t);
  }
  const rows: NameStats[] = [];
  for (const [name, tasks] of groups) {
    const durations: number[] = [];
    const waits: number[] = [];
    const row: NameStats = { name, count: tasks.length, done: 0, failed: 0, cancelled: 0, unfinished: 0, retries: 0, duration: undefined, wait: undefined, totalMs: 0 };
    for (const t of tasks) {
      if (t.state === "DONE") row.done++;
      else if (t.state === "FAILED") row.failed++;
      else if (t.state === "CANCELLED") row.cancelled++;
      else row.unfinished++;
      row.retries += t.retries.length + t.redeliveries;
      if (t.started === undefined) continue;
      waits.push(t.waitMs ?? t.started - t.created);
      if (t.end !== undefined) durations.push(t.durationMs ?? t.end - t.started);
    }
    row.duration = spread(durations);
    row.wait = spread(waits);
    row.totalMs = durations.reduce((a, b) => a + b, 0);
    rows.push(row);
  }
  return rows.sort((a, b) => b.totalMs - a.totalMs || b.count - a.count || (a.name < b.name ? -1 : 1));
}

/** Mean and nearest-rank percentiles; sorts `values`. */
export function spread(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const rank = (p: number): number => values[Math.max(0, Math.ceil((p / 100) * values.length) - 1)]!;
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, p50: rank(50), p95: rank(95), max: values[values.length - 1]! };
}
