/**
 * Lifecycle events (issue #11): what `flow.subscribe()` hands a listener and
 * what a trace file holds, one event per line. Producer (the engine) and
 * readers (`asyncflow report`) both build on these types, so this file
 * carries no behaviour.
 *
 * Per task the order is Created, Resolved, Submitted, Started, then one
 * terminal event (Completed, Failed or Canceled); a task that never runs
 * ends with its terminal event right after the last one it reached.
 */

import type { TaskKind, TaskState } from "./states.js";

/** A task's state in an event: {@link TaskState}. */
export type EventTaskState = TaskState;
/** What a task wraps, in an event: {@link TaskKind}. */
export type EventTaskKind = TaskKind;

/** An error as it travels in an event: never the live object, so a trace line stays plain JSON. */
export interface EventError {
  name: string;
  message: string;
  stack?: string;
}

/** Fields every task event carries. */
export interface TaskEventBase {
  /** Milliseconds since the epoch, sub-millisecond precision. */
  time: number;
  sessionId: string;
  /** The task's uid, e.g. `task.000017`. */
  taskId: string;
  name: string;
  kind: EventTaskKind;
  /** The backend's name; `"engine"` for blocks. */
  backend: string;
  workflowId?: string;
  /** 1 for the first run, incremented by each retry or redelivery. */
  attempt: number;
  label?: string;
}

/** Fields of the events that end a task: `waitMs + durationMs` is its whole life, made to end. */
export interface TerminalFields {
  /** First start to end (for a retried task, every attempt and the delays between them); 0 when it never started. */
  durationMs: number;
  /** Made to first start, or to the end when it never started. */
  waitMs: number;
}

export interface TaskCreated extends TaskEventBase {
  type: "TaskCreated";
  /** uids of the tasks whose results it takes. */
  dependsOn: string[];
  /** The block's uid when it was made inside a block body. */
  parent?: string;
}

/** Its last dependency is done (only emitted when every one succeeded). */
export interface TaskResolved extends TaskEventBase {
  type: "TaskResolved";
}

/** Handed to its backend. */
export interface TaskSubmitted extends TaskEventBase {
  type: "TaskSubmitted";
}

/** The backend began the body (not merely queued it). */
export interface TaskStarted extends TaskEventBase {
  type: "TaskStarted";
  /** What runs it: `"thread 3"`, `"worker host-a:4711"`, `"process 9912"`. */
  where?: string;
}

export interface TaskCompleted extends TaskEventBase, TerminalFields {
  type: "TaskCompleted";
  /** It did not run: the session's cache answered it (`cache: true`), or it shared a running call's execution. */
  cached?: boolean;
  /** It did not run: its result came from the checkpoint of an earlier run. */
  resumed?: boolean;
  /**
   * With a checkpoint: how long its future waited, after its body ended, for
   * the result to be durable. Its `time` (and so `durationMs`) is when the
   * body ended; the future settled `persistMs` later.
   */
  persistMs?: number;
}

export interface TaskFailed extends TaskEventBase, TerminalFields {
  type: "TaskFailed";
  error: EventError;
  /** The task that failed first, when this is a dependency failure. */
  rootCause?: { uid: string; name: string };
  /** It did not run: it shared the execution of a call with the same identity and inputs, which failed. */
  cached?: boolean;
}

export interface TaskCanceled extends TaskEventBase, TerminalFields {
  type: "TaskCanceled";
  reason?: string;
}

/** Attempt `attempt` failed with `error`; attempt `attempt + 1` is submitted after `delayMs` (its Submitted and Started follow). */
export interface TaskRetry extends TaskEventBase {
  type: "TaskRetry";
  delayMs: number;
  error: EventError;
}

/** A run handed over again because what ran it died: a queue job's worker, or the thread of a batch whose results it took. */
export interface TaskRedelivered extends TaskEventBase {
  type: "TaskRedelivered";
  /** What runs it now, e.g. `"worker host-b:5120"`, `"thread 3"`. */
  where?: string;
  /** How many times the run has been handed to a worker (2 and up). */
  delivery?: number;
}

/** Running longer than its `warnAfter`; reported once. */
export interface TaskSlow extends TaskEventBase {
  type: "TaskSlow";
  runningMs: number;
}

export interface SessionStarted {
  type: "SessionStarted";
  sessionId: string;
  time: number;
  pid: number;
  host: string;
  /** Names of the engine's backends, the default first. */
  backends: string[];
}

export interface SessionEnded {
  type: "SessionEnded";
  sessionId: string;
  time: number;
}

export type NoticeLevel = "debug" | "info" | "warn" | "error";

/** A backend's own news: "no worker serves this queue", "Redis unreachable", "reachable again". */
export interface BackendNotice {
  type: "BackendNotice";
  sessionId: string;
  time: number;
  backend: string;
  level: NoticeLevel;
  message: string;
}

/** Why an unfinished task is not done (issue #12's `inspect()`). */
export type InspectReason = "WAITING" | "VALIDATING" | "QUEUED" | "NO_WORKER" | "RUNNING" | "BACKING_OFF" | "STALLED";

/**
 * One unfinished task as `flow.inspect()` describes it, and as `FlowStalled`
 * carries it. Optional fields are there only where the backend knows them.
 */
export interface InspectRow {
  uid: string;
  name: string;
  kind: EventTaskKind;
  state: "PENDING" | "RUNNING";
  reason: InspectReason;
  /** The backend's name; `"engine"` for blocks. */
  backend: string;
  workflowId?: string;
  parent?: string;
  attempt: number;
  /** Since the task was made. */
  ageMs: number;
  /** Since it entered its state (made, for PENDING; started, for RUNNING). */
  inStateMs: number;
  /** WAITING: its unfinished dependencies; a running block: its unfinished tasks. */
  waitingFor: { uid: string; name: string; state: "PENDING" | "RUNNING" }[];
  /** What runs it or what it waits in. */
  where?: string;
  /** The backend's own figures where it knows them: position in its queue, queue length, capacity. */
  position?: number;
  queueLength?: number;
  capacity?: number;
  /** What a user can do about it (the backend's advice: the command that starts a worker). */
  hint?: string;
  /** For a task with retries: how many attempts it may make in all (`retries + 1`); `attempt` counts up to it. */
  maxAttempts?: number;
  /**
   * BACKING_OFF (waiting out its retry delay; `attempt` is then the attempt to
   * come and `inStateMs` runs from the failure): when the next attempt is due
   * (ms since the epoch) and what failed last.
   */
  nextAttemptAt?: number;
  lastError?: EventError;
}

/** Nothing completed for `stalledMs` while tasks were unfinished: the ten oldest running ones. */
export interface FlowStalled {
  type: "FlowStalled";
  sessionId: string;
  time: number;
  stalledMs: number;
  tasks: InspectRow[];
}

/** Every event about one task. */
export type TaskEvent =
  | TaskCreated
  | TaskResolved
  | TaskSubmitted
  | TaskStarted
  | TaskCompleted
  | TaskFailed
  | TaskCanceled
  | TaskRetry
  | TaskRedelivered
  | TaskSlow;

/** Events about the flow as a whole, with no task. */
export type SessionEvent = SessionStarted | SessionEnded | BackendNotice | FlowStalled;

/** Every event a listener or a trace file sees, discriminated on `type`. */
export type FlowEvent = TaskEvent | SessionEvent;

export type FlowEventType = FlowEvent["type"];
export type TaskEventType = TaskEvent["type"];
/** The event type named `T`: `EventOf<"TaskFailed">` is {@link TaskFailed}. */
export type EventOf<T extends FlowEventType> = Extract<FlowEvent, { type: T }>;

/** The events that end a task; each task has exactly one. */
export type TerminalEvent = TaskCompleted | TaskFailed | TaskCanceled;

/** What `flow.subscribe()` takes. Called synchronously as the transition happens; one that throws is logged and ignored. */
export type FlowListener = (event: FlowEvent) => void;
