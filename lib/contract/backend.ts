import { InvalidStateError } from "./errors.js";
import type { Logger } from "./log.js";
import type { TaskRun } from "./run.js";
import type { TaskKind } from "./states.js";
import type { AnyTaskOptions } from "./task.js";

/** The states a backend reports; CANCELLED is decided by the engine, never reported. */
export type ReportedState = "RUNNING" | "DONE" | "FAILED";

/**
 * What a backend knows of where a run's body runs, told with its `RUNNING`
 * report: `where` names what runs it (`"thread 3"`, `"worker host-a:4711"`,
 * `"process 9912"`); `delivery` counts how many times a queue handed the run
 * to a worker (2 and up: redelivered after a worker was lost).
 */
export interface RunInfo {
  readonly where?: string;
  readonly delivery?: number;
}

/**
 * How a backend tells the engine what became of a run: `RUNNING` once the
 * body has started (with `info` where known), then `DONE` with the result or
 * `FAILED` with the error. Reports after the run was cancelled are ignored,
 * so a backend need not track cancellation to stay correct.
 */
export type ReportState = (run: TaskRun, state: ReportedState, value?: unknown, info?: RunInfo) => void;

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
 * hold no handle that keeps the process alive.
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

/**
 * Keeps the `report` callback a backend was attached with, and refuses a
 * second attach: a backend instance serves one engine.
 */
export class Attachment {
  #report: ReportState | null = null;
  #env: BackendEnvironment | null = null;
  readonly #owner: string;

  constructor(owner: string) {
    this.#owner = owner;
  }
  set(report: ReportState, env: BackendEnvironment): void {
    if (this.#report !== null) {
      throw new InvalidStateError(`backend "${this.#owner}" is already attached to an engine: give each engine its own backend instance`);
    }
    this.#report = report;
    this.#env = env;
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
