/**
 * Folds a stream of events into one record per task and session: what the
 * report, the critical path and the statistics read. O(events).
 */
import type {
  BackendNotice,
  EventError,
  EventTaskKind,
  EventTaskState,
  FlowEvent,
  FlowStalled,
  SessionStarted,
  TaskEvent,
} from "../contract/events.js";

/** One task as the trace tells it. Times are ms since the epoch; absent ones were not reached. */
export interface TracedTask {
  uid: string;
  name: string;
  kind: EventTaskKind;
  backend: string;
  workflowId: string | undefined;
  parent: string | undefined;
  label: string | undefined;
  dependsOn: string[];
  created: number;
  resolved: number | undefined;
  submitted: number | undefined;
  /** The first attempt's start. */
  started: number | undefined;
  end: number | undefined;
  /** DONE, FAILED or CANCELLED from its terminal event; RUNNING or PENDING when the trace stops before one. */
  state: EventTaskState;
  attempt: number;
  /** When each retry was decided (the end of the attempt that failed). */
  retries: number[];
  /** When each attempt after the first started: with `retries`, when it ran (not while it waited to retry). */
  restarts: number[];
  redeliveries: number;
  /** From the terminal event: started to end, and created to started (or to the end). */
  durationMs: number | undefined;
  waitMs: number | undefined;
  error: EventError | undefined;
  rootCause: { uid: string; name: string } | undefined;
  reason: string | undefined;
  where: string | undefined;
  cached: boolean;
  /** When it was reported slow (`warnAfter`). */
  slowAt: number | undefined;
}

/** One session of a trace file. */
export interface SessionModel {
  sessionId: string;
  start: SessionStarted | undefined;
  endedAt: number | undefined;
  firstTime: number;
  lastTime: number;
  /** In order of first appearance. */
  tasks: Map<string, TracedTask>;
  notices: BackendNotice[];
  stalls: FlowStalled[];
}

/** Builds the models of every session in a file; `keepEventsOf` keeps the raw events of one task uid. */
export class TraceModelBuilder {
  readonly #sessions = new Map<string, SessionModel>();
  readonly #onlySession: string | undefined;
  readonly #keep: string | undefined;
  readonly kept = new Map<string, TaskEvent[]>();

  constructor(options: { session?: string; keepEventsOf?: string } = {}) {
    this.#onlySession = options.session;
    this.#keep = options.keepEventsOf;
  }

  /** Session ids in order of first appearance, all of them even when building one. */
  readonly seen: string[] = [];

  add = (e: FlowEvent): void => {
    let s = this.#sessions.get(e.sessionId);
    if (s === undefined) {
      if (!this.seen.includes(e.sessionId)) this.seen.push(e.sessionId);
      if (this.#onlySession !== undefined && e.sessionId !== this.#onlySession) return;
      s = { sessionId: e.sessionId, start: undefined, endedAt: undefined, firstTime: e.time, lastTime: e.time, tasks: new Map(), notices: [], stalls: [] };
      this.#sessions.set(e.sessionId, s);
    }
    if (e.time < s.firstTime) s.firstTime = e.time;
    if (e.time > s.lastTime) s.lastTime = e.time;
    switch (e.type) {
      case "SessionStarted":
        s.start = e;
        return;
      case "SessionEnded":
        s.endedAt = e.time;
        return;
      case "BackendNotice":
        s.notices.push(e);
        return;
      case "FlowStalled":
        s.stalls.push(e);
        return;
      default:
        if (!isTaskEvent(e)) return; // a type from a newer version
        if (e.taskId === this.#keep) {
          const list = this.kept.get(e.sessionId);
          if (list === undefined) this.kept.set(e.sessionId, [e]);
          else list.push(e);
        }
        applyTaskEvent(s, e);
    }
  };

  sessions(): SessionModel[] {
    return [...this.#sessions.values()];
  }
}

const TASK_EVENT_TYPES: ReadonlySet<string> = new Set<TaskEvent["type"]>([
  "TaskCreated",
  "TaskResolved",
  "TaskSubmitted",
  "TaskStarted",
  "TaskCompleted",
  "TaskFailed",
  "TaskCanceled",
  "TaskRetry",
  "TaskRedelivered",
  "TaskSlow",
]);

/**
 * A session's failures by kind: failed in their own body; calls that shared
 * a cached execution which failed (one body, several futures: counted once,
 * in `own`); and tasks that did not run because a dependency failed.
 */
export function failuresOf(session: SessionModel): { own: TracedTask[]; shared: number; caused: number } {
  const own: TracedTask[] = [];
  let shared = 0;
  let caused = 0;
  for (const t of session.tasks.values()) {
    if (t.state !== "FAILED") continue;
    if (t.rootCause !== undefined) caused++;
    else if (t.cached) shared++;
    else own.push(t);
  }
  return { own, shared, caused };
}

/** How failuresOf's counts read: "2 failed in their own body, 1 because a dependency failed". */
export function failureCounts(f: { own: readonly unknown[]; shared: number; caused: number }): string {
  const shared = f.shared === 0 ? "" : `, ${f.shared} shared a cached execution that failed`;
  return `${f.own.length} failed in their own body${shared}, ${f.caused} because a dependency failed`;
}

export function isTaskEvent(e: FlowEvent): e is TaskEvent {
  return TASK_EVENT_TYPES.has(e.type);
}

function applyTaskEvent(s: SessionModel, e: TaskEvent): void {
  let t = s.tasks.get(e.taskId);
  if (t === undefined) {
    // A task met first in a later event (the trace began mid-session) starts at that event.
    t = {
      uid: e.taskId,
      name: e.name,
      kind: e.kind,
      backend: e.backend,
      workflowId: e.workflowId,
      parent: undefined,
      label: e.label,
      dependsOn: [],
      created: e.time,
      resolved: undefined,
      submitted: undefined,
      started: undefined,
      end: undefined,
      state: "PENDING",
      attempt: e.attempt,
      retries: [],
      restarts: [],
      redeliveries: 0,
      durationMs: undefined,
      waitMs: undefined,
      error: undefined,
      rootCause: undefined,
      reason: undefined,
      where: undefined,
      cached: false,
      slowAt: undefined,
    };
    s.tasks.set(e.taskId, t);
  }
  if (e.attempt > t.attempt) t.attempt = e.attempt;
  // The backend is known for sure only once submitted (routing may be decided late).
  t.backend = e.backend;
  switch (e.type) {
    case "TaskCreated":
      t.created = e.time;
      t.dependsOn = e.dependsOn;
      t.parent = e.parent;
      return;
    case "TaskResolved":
      t.resolved = e.time;
      return;
    case "TaskSubmitted":
      t.submitted ??= e.time;
      return;
    case "TaskStarted":
      if (t.started === undefined) t.started = e.time;
      else t.restarts.push(e.time);
      if (t.state === "PENDING") t.state = "RUNNING";
      if (e.where !== undefined) t.where = e.where;
      return;
    case "TaskRetry":
      t.retries.push(e.time);
      t.error = e.error;
      return;
    case "TaskRedelivered":
      t.redeliveries++;
      return;
    case "TaskSlow":
      t.slowAt ??= e.time;
      return;
    case "TaskCompleted":
      t.state = "DONE";
      t.cached = e.cached === true;
      t.error = undefined;
      break;
    case "TaskFailed":
      t.state = "FAILED";
      t.cached = e.cached === true;
      t.error = e.error;
      t.rootCause = e.rootCause;
      break;
    case "TaskCanceled":
      t.state = "CANCELLED";
      t.reason = e.reason;
      break;
  }
  t.end = e.time;
  t.durationMs = e.durationMs;
  t.waitMs = e.waitMs;
}

/** Session ids in a file and how the one reported was chosen. */
export interface SessionChoice {
  session: SessionModel;
  /** Said to the user when the file holds several sessions and none was named. */
  note: string | undefined;
}
