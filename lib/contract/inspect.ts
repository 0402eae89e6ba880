/** What `flow.inspect()` returns (issue #12). Mirrors the event types of #11, where these will live. */

/** Why an unfinished task is not done. */
export type InspectReason = "WAITING" | "QUEUED" | "NO_WORKER" | "RUNNING" | "BACKING_OFF" | "STALLED";

/** One unfinished task as `flow.inspect()` describes it. */
export interface InspectRow {
  uid: string;
  name: string;
  kind: "function" | "executable" | "block";
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
}
