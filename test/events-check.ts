/**
 * What every backend's event stream must satisfy, per task: Created,
 * Resolved, Submitted, Started in that order (a task that never runs stops
 * early), then exactly one terminal event; TaskRedelivered only after
 * Started; each TaskRetry after a Started, followed by the next attempt's
 * Submitted and Started (or the end). Shared by the events tests of every backend.
 */
import { expect } from "vitest";
import type { FlowEvent, TaskEvent, TaskFuture } from "../lib/index.js";

const STEPS = ["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted"] as const;
const TERMINAL = new Set(["TaskCompleted", "TaskFailed", "TaskCanceled"]);
const STATE_OF: Record<string, string> = { TaskCompleted: "DONE", TaskFailed: "FAILED", TaskCanceled: "CANCELLED" };

/** Every task event of `events`, grouped by task uid in arrival order. */
export function byTask(events: readonly FlowEvent[]): Map<string, TaskEvent[]> {
  const out = new Map<string, TaskEvent[]>();
  for (const e of events) {
    if (!("taskId" in e)) continue;
    const list = out.get(e.taskId);
    if (list === undefined) out.set(e.taskId, [e]);
    else list.push(e);
  }
  return out;
}

/** Fails naming the task whose events break the order; returns the types seen per task. */
export function expectLifecycleOrder(events: readonly FlowEvent[]): Map<string, string[]> {
  const types = new Map<string, string[]>();
  for (const [uid, list] of byTask(events)) {
    const seq = list.filter((e) => e.type !== "TaskRedelivered").map((e) => e.type);
    const end = seq.length - 1;
    // Each retry repeats Submitted and Started: folded away, the first attempt's steps remain.
    const steps = seq.slice(0, end).join(",").replaceAll(",TaskRetry,TaskSubmitted,TaskStarted", "").replace(/,TaskRetry(,TaskSubmitted)?$/, "").split(",");
    for (const [i, e] of list.entries()) if (e.type === "TaskRetry") expect(e.attempt, `${uid}: retry numbering`).toBe(list.slice(0, i).filter((x) => x.type === "TaskRetry").length + 1);
    const ok = steps.length >= 1 && steps.every((t, i) => t === STEPS[i]) && TERMINAL.has(seq[end]!);
    expect(ok, `${uid}: ${seq.join(", ")}`).toBe(true);
    const started = list.findIndex((e) => e.type === "TaskStarted");
    for (const [i, e] of list.entries()) if (e.type === "TaskRedelivered") expect(started >= 0 && i > started, `${uid}: redelivered before started`).toBe(true);
    for (let i = 1; i < list.length; i++) expect(list[i]!.time, `${uid}: time goes back`).toBeGreaterThanOrEqual(list[i - 1]!.time);
    types.set(uid, seq);
  }
  return types;
}

/** The terminal event of each future agrees with its final state, and a task that ran has all five events. */
export function expectMatchesFutures(events: readonly FlowEvent[], futures: readonly Pick<TaskFuture, "uid" | "state">[]): void {
  const types = expectLifecycleOrder(events);
  for (const f of futures) {
    const seq = types.get(f.uid);
    expect(seq, `${f.uid} has no events`).toBeDefined();
    expect(STATE_OF[seq![seq!.length - 1]!], `${f.uid}: ${seq!.join(", ")}`).toBe(f.state);
  }
}
