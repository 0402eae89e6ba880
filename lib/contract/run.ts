import { ContextBase } from "./context.js";
import type { TaskKind } from "./states.js";
import type { AnyTaskOptions } from "./task.js";

/**
 * What a backend knows of where a run's body runs, told with its `RUNNING`
 * report: `where` names what runs it (`"thread 3"`, `"worker host-a:4711"`,
 * `"process 9912"`); `delivery` counts how many times the run was handed to
 * a worker (2 and up: handed over again after a worker was lost with it).
 */
export interface RunInfo {
  readonly where?: string;
  readonly delivery?: number;
}

/**
 * What a run is of: the engine's future, seen only through what a run needs.
 * An interface here keeps the contract free of the engine (the engine's
 * `TaskFuture` satisfies it).
 * @internal
 */
export interface RunSubject {
  readonly uid: string;
  readonly name: string;
  readonly _def: { readonly kind: TaskKind; readonly fn: (...args: never[]) => unknown; readonly options: AnyTaskOptions };
  /** The workflow the task was made in (see `workflowScope`), or null. */
  readonly _workflow: string | null;
}

/**
 * One attempt at running a task: what the engine hands a backend, and the
 * context its body sees through `taskContext()`. Arguments arrive resolved
 * (every future replaced by its result).
 */
export class TaskRun extends ContextBase {
  /** @internal */ readonly future: RunSubject;
  /** The arguments with every future replaced by its result. */
  readonly args: unknown[];
  readonly attempt: number;
  /** @internal where the body runs, as the backend told with RUNNING */
  info: RunInfo | undefined = undefined;
  /**
   * W3C trace context (`traceparent`, `tracestate`) of the task's span, set
   * only while OpenTelemetry is active: backends that run the body elsewhere
   * send it along, and the far side makes it the body's active context.
   */
  trace: Record<string, string> | undefined = undefined;
  #controller: AbortController | null = null;

  /** @internal */
  constructor(future: RunSubject, args: unknown[], attempt: number) {
    super();
    this.future = future;
    this.args = args;
    this.attempt = attempt;
  }

  get uid(): string {
    return this.future.uid;
  }
  get name(): string {
    return this.future.name;
  }
  /** The workflow the task belongs to, for a backend's log lines about it. */
  get workflowId(): string | undefined {
    return this.future._workflow ?? undefined;
  }
  get kind(): TaskKind {
    return this.future._def.kind;
  }
  /** The wrapped function: the body of a function task, the command builder of an executable task. */
  get fn(): (...args: never[]) => unknown {
    return this.future._def.fn;
  }
  get options(): AnyTaskOptions {
    return this.future._def.options;
  }
  /** Made on first use: most bodies never look at it. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Whether the run was cancelled. For backends: unlike `signal.aborted`, it makes no AbortController. */
  get aborted(): boolean {
    return this.#controller !== null && this.#controller.signal.aborted;
  }

  /** @internal aborts `signal` with the cancellation error */
  abort(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }
}
