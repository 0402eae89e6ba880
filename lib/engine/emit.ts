import { DependencyFailureError, safeString } from "../contract/errors.js";
import type { EventError, TaskCanceled, TaskCompleted, TaskCreated, TaskEventBase, TaskFailed, TaskRedelivered, TaskRetry, TaskSlow, TaskStarted } from "../contract/events.js";
import { TaskState, type FinalState } from "../contract/states.js";
import { depKeys, depUid, type TaskFuture } from "./future.js";
import { epoch, type Observers } from "./observe.js";

/**
 * Builds lifecycle events from a future's fields. Called only when
 * `observers.active`: with nobody listening, none of this runs. Each event is
 * one object (the common fields, then its own added in place: no spreads), so
 * that a listener on a hot flow costs about one allocation per event.
 */

function base<T extends string>(type: T, time: number, sessionId: string, f: TaskFuture, attempt: number): TaskEventBase & { type: T } {
  const d = f._def;
  const e: TaskEventBase & { type: T } = { type, time: epoch(time), sessionId, taskId: f.uid, name: d.name, kind: d.kind, backend: d.backend.name, workflowId: f._workflow ?? undefined, attempt };
  // On every event of a labelled task: a trace read from the middle still names it.
  if (d.options.label !== undefined) e.label = d.options.label;
  return e;
}

/** TaskCreated, naming the dependencies and the block it was made in. */
export function emitCreated(o: Observers, sessionId: string, f: TaskFuture): void {
  const e = base("TaskCreated", f._created, sessionId, f, 1) as TaskCreated;
  e.dependsOn = depKeys(f._deps).map(depUid);
  if (f._parent !== null) e.parent = f._parent.uid;
  o.emit(e);
}

/** TaskResolved or TaskSubmitted: steps with no fields of their own. */
export function emitStep(o: Observers, sessionId: string, f: TaskFuture, type: "TaskResolved" | "TaskSubmitted"): void {
  o.emit(base(type, o.now(), sessionId, f, f._run?.attempt ?? 1));
}

/** TaskStarted (at `f._started`), or TaskRedelivered when a queue handed the job to another worker. */
export function emitStarted(o: Observers, sessionId: string, f: TaskFuture, type: "TaskStarted" | "TaskRedelivered", where?: string, delivery?: number): void {
  const e = base(type, type === "TaskStarted" ? f._started : o.now(), sessionId, f, f._run?.attempt ?? 1) as TaskStarted | TaskRedelivered;
  if (where !== undefined) e.where = where;
  if (delivery !== undefined && e.type === "TaskRedelivered") e.delivery = delivery;
  o.emit(e);
}

/** TaskRetry: attempt `attempt` failed with `error`; the next starts in `delayMs`. */
export function emitRetry(o: Observers, sessionId: string, f: TaskFuture, attempt: number, delayMs: number, error: unknown): void {
  const e = base("TaskRetry", o.now(), sessionId, f, attempt) as TaskRetry;
  e.delayMs = delayMs;
  e.error = eventError(error);
  o.emit(e);
}

/** TaskSlow: `f` has run `runningMs`, longer than its `warnAfter`. */
export function emitSlow(o: Observers, sessionId: string, f: TaskFuture, runningMs: number): void {
  const e = base("TaskSlow", o.now(), sessionId, f, f._run?.attempt ?? 1) as TaskSlow;
  e.runningMs = runningMs;
  o.emit(e);
}

/** How a task that did not run got its outcome: the session's cache (or a call it shared), or the checkpoint of an earlier run. */
export type Reused = "cached" | "resumed";

/** The terminal event of `f`, which has just become `state` at `now`, having run until `ranUntil` when a write held it (its `_started` still tells whether it ran). */
export function emitEnded(o: Observers, sessionId: string, f: TaskFuture, state: FinalState, value: unknown, now: number, attempt: number, reused?: Reused, ranUntil?: number): void {
  const type = state === TaskState.DONE ? "TaskCompleted" : state === TaskState.FAILED ? "TaskFailed" : "TaskCanceled";
  // A checkpointed task ended when its body did (ranUntil); its future settled once the result was durable.
  const end = ranUntil ?? now;
  const e = base(type, end, sessionId, f, attempt) as TaskCompleted | TaskFailed | TaskCanceled;
  if (ranUntil !== undefined && e.type === "TaskCompleted") e.persistMs = now - ranUntil;
  // A retried task has run since its first start: its attempts and the delays between them are duration, not wait.
  const started = f._attempts?.firstStarted ?? f._started;
  e.durationMs = started > 0 ? end - started : 0;
  e.waitMs = (started > 0 ? started : end) - f._created;
  if (reused === "cached" && e.type !== "TaskCanceled") e.cached = true;
  else if (reused === "resumed" && e.type === "TaskCompleted") e.resumed = true;
  if (e.type === "TaskCanceled") e.reason = (value as { reason?: string }).reason;
  else if (e.type === "TaskFailed") {
    e.error = eventError(value);
    if (value instanceof DependencyFailureError) e.rootCause = value.rootTask;
  }
  o.emit(e);
}

/** An error as plain data: what an event carries, never the live object. */
export function eventError(error: unknown): EventError {
  if (error instanceof Error) return error.stack === undefined ? { name: error.name, message: error.message } : { name: error.name, message: error.message, stack: error.stack };
  return { name: "Error", message: `non-error thrown: ${safeString(error)}` };
}
