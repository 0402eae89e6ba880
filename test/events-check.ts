/**
 * What every backend's event stream must satisfy, per task: Created,
 * Resolved, Submitted, Started in that order (a task that never runs stops
 * early), then exactly one terminal event; TaskRedelivered only after
 * Started; each TaskRetry after a Started, followed by the next attempt's
 * Submitted and Started (or the end). Every event carries the common fields,
 * the same for all of a task's events; the terminal one its `durationMs`
 * (first start to end, 0 when it never started) and `waitMs` (made to first
 * start, or to the end). Shared by the events tests of every backend.
 */
import { expect } from "vitest";
import type { FlowEvent, TaskEvent, TaskFuture } from "../lib/index.js";

const STEPS = ["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted"] as const;
const TERMINAL = new Set(["TaskCompleted", "TaskFailed", "TaskCanceled"]);
const STATE_OF: Record<string, string> = { TaskCompleted: "DONE", TaskFailed: "FAILED", TaskCanceled: "CANCELLED" };
const KINDS = ["function", "executable", "block"];
// Times since the epoch keep about a quarter of a microsecond; spans are exact.
const CLOSE = 0.001;

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
    expectCommonFields(uid, list);
    expectSpans(uid, list);
    types.set(uid, seq);
  }
  return types;
}

/** time, sessionId, taskId, name, kind, backend ("engine" for blocks), workflowId and attempt: on every event, the same on each but time and attempt. */
function expectCommonFields(uid: string, list: readonly TaskEvent[]): void {
  const first = list[0]!;
  expect(first.taskId, `${uid}: taskId`).toMatch(/^(task|block)\.\d{6}$/);
  expect(KINDS, `${uid}: kind`).toContain(first.kind);
  expect(first.backend === "engine", `${uid}: backend "${first.backend}" of a ${first.kind}`).toBe(first.kind === "block");
  for (const e of list) {
    const where = `${uid} ${e.type}`;
    expect(Number.isFinite(e.time) && e.time > 1.5e12, `${where}: time ${e.time}`).toBe(true);
    expect(typeof e.sessionId === "string" && e.sessionId !== "", `${where}: sessionId`).toBe(true);
    expect(Number.isInteger(e.attempt) && e.attempt >= 1, `${where}: attempt ${e.attempt}`).toBe(true);
    expect(typeof e.name === "string" && e.name !== "", `${where}: name`).toBe(true);
    expect({ sessionId: e.sessionId, taskId: e.taskId, name: e.name, kind: e.kind, backend: e.backend, workflowId: e.workflowId }, where).toEqual({
      sessionId: first.sessionId,
      taskId: first.taskId,
      name: first.name,
      kind: first.kind,
      backend: first.backend,
      workflowId: first.workflowId,
    });
  }
}

/** The terminal event's durationMs and waitMs agree with the times of the task's own events. */
function expectSpans(uid: string, list: readonly TaskEvent[]): void {
  const end = list[list.length - 1]!;
  if (!TERMINAL.has(end.type)) return;
  const { durationMs, waitMs } = end as Extract<TaskEvent, { durationMs: number }>;
  const created = list[0]!.time;
  const started = list.find((e) => e.type === "TaskStarted")?.time;
  expect(durationMs >= 0 && waitMs >= 0, `${uid}: durationMs ${durationMs}, waitMs ${waitMs}`).toBe(true);
  if (started === undefined) {
    expect(durationMs, `${uid}: never started`).toBe(0);
    expect(Math.abs(waitMs - (end.time - created)), `${uid}: waitMs ${waitMs} is made to end`).toBeLessThan(CLOSE);
  } else {
    expect(Math.abs(waitMs - (started - created)), `${uid}: waitMs ${waitMs} is made to first start`).toBeLessThan(CLOSE);
    expect(Math.abs(durationMs - (end.time - started)), `${uid}: durationMs ${durationMs} is first start to end`).toBeLessThan(CLOSE);
  }
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
