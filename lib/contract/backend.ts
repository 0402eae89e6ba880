import { EngineShutdownError, InvalidStateError } from "./errors.js";
import type { Logger } from "./log.js";
import type { RunInfo, TaskRun } from "./run.js";

export type { RunInfo } from "./run.js";
import type { TaskKind } from "./states.js";
import type { AnyTaskOptions } from "./task.js";

/** The states a backend reports; CANCELLED is decided by the engine, never reported. */
export type ReportedState = "RUNNING" | "DONE" | "FAILED";

/**
 * How a backend tells the engine what became of a run: `RUNNING` once the
 * body has started (with `info` where known), then `DONE` with the result or
 * `FAILED` with the error. Reports after the run was cancelled are ignored,
 * so a backend need not track cancellation to stay correct.
 */
export type ReportState = (run: TaskRun, state: ReportedState, value?: unknown, info?: RunInfo) => void;

/**
 * Why a submitted run has not finished, as its backend sees it: what
 * `flow.inspect()` and `flow.explain()` show. Figures are the backend's own,
 * given where it knows them.
 */
export interface RunDescription {
  /**
   * `QUEUED`: not started because the backend is full; `NO_WORKER`: waiting on
   * a queue no worker serves; `RUNNING`: its body runs; `STALLED`: the worker
   * that ran it was lost, and it waits to be handed to another.
   */
  readonly reason: "QUEUED" | "NO_WORKER" | "RUNNING" | "STALLED";
  /** Its place among the runs waiting in the backend, 1 for the next to start. */
  readonly position?: number;
  /** Runs waiting in the backend (this one included). */
  readonly length?: number;
  /** How many runs the backend runs at once (threads, slots, `concurrency`). */
  readonly capacity?: number;
  /** What runs it or what it waits in: `"thread pool"`, `queue "etl"`, `"worker host-a:4711"`. */
  readonly where?: string;
  /** What a user can do about it, e.g. the command that starts a worker. */
  readonly hint?: string;
}

/**
 * For `describe`: `make()` computed once per synchronous burst (one
 * `inspect()` asks about every run at once) and dropped at the next
 * microtask, so that a backend answering n runs from an O(n) index costs
 * O(n) in all, not O(n^2).
 */
export function oncePerBurst<T>(make: () => T): () => T {
  let value: T | undefined;
  let held = false;
  return () => {
    if (!held) {
      value = make();
      held = true;
      queueMicrotask(() => {
        value = undefined;
        held = false;
      });
    }
    return value as T;
  };
}

/** A task definition as a backend's `validate` sees it. */
export interface TaskDescription {
  readonly name: string;
  readonly kind: TaskKind;
  readonly fn: (...args: never[]) => unknown;
  readonly options: AnyTaskOptions;
}

/** What the engine tells a backend when it attaches it. */
export interface BackendEnvironment {
  /** The engine's session uid, e.g. `asyncflow.session.1a2b3c4d`. */
  readonly sessionUid: string;
  readonly workDir: string;
  readonly log: Logger;
  /**
   * Whether anything listens to the engine's task events right now
   * (subscribers, the trace file, OpenTelemetry): a backend may skip work
   * whose only use is an event's detail, such as the `where` of a start it
   * would have to ask a remote store for. Cheap: read it per run.
   */
  readonly observed: () => boolean;
}

/**
 * The contract every execution backend implements (local, threads, queue,
 * noop). Completion is reported through a callback: a backend never makes
 * the engine poll or wait.
 *
 * The engine calls `attach` once before any `submit`; `submit` for each run
 * whose inputs are ready (function and executable tasks; blocks go to the
 * engine's own runner, which implements this contract too); `cancel` for a run the user cancelled after it was submitted (its
 * `signal` is already aborted); `shutdown` once, after which the backend must
 * hold no handle that keeps the process alive, and `submit` throws
 * EngineShutdownError ({@link Attachment.admit}) without starting anything.
 */
export interface ExecutionBackend {
  /** Unique among an engine's backends; tasks route to it by `opts.backend`. */
  readonly name: string;
  attach(report: ReportState, env: BackendEnvironment): void | Promise<void>;
  /**
   * Optional: checks a task routed here when it is defined (not when it runs),
   * so that what cannot work on this backend fails at the earliest point.
   * Throws InvalidTaskError.
   */
  validate?(task: TaskDescription): void;
  submit(run: TaskRun): void;
  cancel(run: TaskRun): void;
  /**
   * Optional: why `run` (submitted, not finished; `started` once it reported
   * `RUNNING`) is not done, with the backend's own figures. Synchronous and
   * cheap: `inspect()` calls it for every submitted run, so a backend answers
   * from what it holds in memory. Undefined leaves it to the engine (`QUEUED`
   * before `RUNNING`, `RUNNING` after).
   */
  describe?(run: TaskRun, started: boolean): RunDescription | undefined;
  shutdown(): Promise<void>;
}

export function isExecutionBackend(x: unknown): x is ExecutionBackend {
  if (typeof x !== "object" || x === null) return false;
  const b = x as Record<string, unknown>;
  return (
    typeof b.name === "string" &&
    typeof b.attach === "function" &&
    typeof b.submit === "function" &&
    typeof b.cancel === "function" &&
    typeof b.shutdown === "function"
  );
}

/** Why a backend is refused by a second engine (at create, or by a backend's own attach). */
export const alreadyAttached = (name: string): string => `backend "${name}" is already attached to an engine: give each engine its own backend instance`;

/**
 * Keeps the `report` callback a backend was attached with, refuses a second
 * attach (a backend instance serves one engine), and refuses runs once the
 * backend is shut down.
 */
export class Attachment {
  #report: ReportState | null = null;
  #env: BackendEnvironment | null = null;
  #closed = false;
  readonly #owner: string;

  constructor(owner: string) {
    this.#owner = owner;
  }
  set(report: ReportState, env: BackendEnvironment): void {
    if (this.#report !== null) {
      throw new InvalidStateError(alreadyAttached(this.#owner));
    }
    this.#report = report;
    this.#env = env;
  }
  /** Called by the backend's `shutdown`: from now on {@link Attachment.admit} refuses runs. */
  close(): void {
    this.#closed = true;
  }
  /**
   * Checked first in `submit`: a run handed over after shutdown is refused
   * before anything of it starts (the engine fails the task with this error).
   */
  admit(run: TaskRun): void {
    if (this.#closed) throw new EngineShutdownError(`backend "${this.#owner}" is shut down: it cannot run ${run.uid} (${run.name})`);
  }
  get report(): ReportState {
    if (this.#report === null) throw new InvalidStateError(`backend "${this.#owner}" is not attached to an engine`);
    return this.#report;
  }
  get env(): BackendEnvironment {
    if (this.#env === null) throw new InvalidStateError(`backend "${this.#owner}" is not attached to an engine`);
    return this.#env;
  }
}
