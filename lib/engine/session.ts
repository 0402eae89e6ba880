import type { ExecutionBackend } from "../contract/backend.js";
import { ArgumentDepthError, forEachFuture, hasObject } from "./args.js";
import { Attempts } from "./attempts.js";
import { checkInputs, whileValidating } from "./contract.js";
import { BlockRunner } from "./blocks.js";
import { Dispatcher } from "./dispatch.js";
import { Memo } from "./memo.js";
import type { CheckpointStore } from "./store.js";
import { EngineShutdownError, InvalidTaskError, TaskCancelledError, describe } from "../contract/errors.js";
import { InputValidationError } from "../contract/contract-errors.js";
import { didYouMean } from "../contract/suggest.js";
import { emitCreated, emitSlow } from "./emit.js";
import { TaskFuture, depKeys, depUid, type DoneCallback, type HeldCallback, type TaskDefinition, type TaskHost } from "./future.js";
import { link } from "./graph.js";
import { History } from "./history.js";
import { LiveTasks } from "./live.js";
import type { Logger } from "../contract/log.js";
import { Observers, epoch } from "./observe.js";
import type { SpanBridge } from "./otel.js";
import { placeTask } from "./scope.js";
import { pushPruned } from "./pruned.js";
import { Lifecycle, blockCancelled } from "./settle.js";
import { duration } from "./explain.js";
import { LiveView } from "./inspect.js";
import { StallWatch } from "./stall.js";
import { explainRoots } from "./unfinished.js";
import { TaskState, isFinal } from "../contract/states.js";
import { Unobserved } from "./unobserved.js";

/**
 * The engine's working state, shared by the steps of the data path: the live
 * tasks, the retained history, the lifecycle (transitions) and the dispatcher
 * (ready -> backend). `WorkflowEngine` is the public face of one session.
 */
export class Session implements TaskHost {
  readonly uid: string;
  readonly workDir: string;
  readonly log: Logger;
  /** Tasks not yet final, in registration order. */
  readonly live = new LiveTasks();
  readonly history: History;
  readonly lifecycle: Lifecycle;
  readonly dispatcher: Dispatcher;
  readonly attempts: Attempts;
  readonly backends: ReadonlyMap<string, ExecutionBackend>;
  readonly defaultBackend: ExecutionBackend;
  /** stallTimeout and warnAfter. */
  readonly watch: StallWatch;
  /** Runs blocks, in the engine; not one of `backends` (no task routes to it by name). */
  readonly blocks = new BlockRunner((f, reason) => this.cancel(f, reason));
  /** Lifecycle listeners, and the clock futures are stamped with. */
  readonly observers: Observers;
  readonly unobserved = new Unobserved();
  /** OpenTelemetry spans, when a tracer provider was registered at create(). */
  spans: SpanBridge | null = null;
  closed = false;
  #lastId = 0;

  /** Reuse of results: the session's cache and the checkpoint. */
  readonly memo: Memo;

  constructor(fields: { uid: string; workDir: string; log: Logger; history: number; backends: ExecutionBackend[]; stallTimeout?: number; store?: CheckpointStore | null }) {
    this.uid = fields.uid;
    this.workDir = fields.workDir;
    this.log = fields.log;
    this.history = new History(fields.history);
    this.observers = new Observers(fields.uid, fields.log);
    this.lifecycle = new Lifecycle(this);
    this.dispatcher = new Dispatcher(this);
    const dispatchWith = (f: TaskFuture, args: unknown[]): void => {
      if (!this.closed) this.dispatcher.dispatchWith(f, args);
    };
    this.memo = new Memo({ log: this.log, lifecycle: this.lifecycle, dispatchWith, now: () => this.now() }, fields.store ?? null);
    this.attempts = new Attempts(this);
    this.backends = new Map(fields.backends.map((b) => [b.name, b]));
    this.defaultBackend = fields.backends[0]!;
    this.watch = new StallWatch(fields.stallTimeout, () => this.live.size > 0, {
      stalled: (ms) => {
        const live = this.live.toArray();
        const now = performance.now();
        const lines = explainRoots(live, now, 19);
        this.log.warn(this.uid, `no task finished for ${duration(ms)} (stallTimeout) while ${this.live.size} are unfinished:\n  ${lines.join("\n  ")}`);
        if (this.observers.active) {
          const view = new LiveView(live, now);
          this.observers.emit({ type: "FlowStalled", sessionId: this.uid, time: epoch(now), stalledMs: ms, tasks: oldestRunning(live, STALLED_ROWS).map((f) => view.row(f)) });
        }
      },
      slow: (f, ms) => {
        if (this.observers.active) emitSlow(this.observers, this.uid, f, ms);
        this.log.warn(f.uid, `${f.name}: running for ${duration(ms)}, longer than its warnAfter (${duration(f._def.options.warnAfter ?? 0)})`, f._workflow ?? undefined);
      },
    });
  }

  /** The session's clock: see `Observers.now` (exact while anyone listens, else one reading per synchronous burst). */
  now(): number {
    return this.observers.now();
  }

  /** The backend a task routes to. @throws InvalidTaskError naming the known backends. */
  backendFor(name: string | undefined, taskName: string): ExecutionBackend {
    if (name === undefined) return this.defaultBackend;
    const backend = this.backends.get(name);
    if (backend === undefined) {
      const known = [...this.backends.keys()].map((n) => `"${n}"`).join(", ");
      throw new InvalidTaskError(taskName, `unknown backend "${name}"${didYouMean(name, this.backends.keys())}: this engine has ${known}`);
    }
    return backend;
  }

  /** Define -> future -> graph: what calling a task wrapper does. */
  call(def: TaskDefinition, args: unknown[]): TaskFuture {
    if (this.closed) throw new EngineShutdownError(`engine ${this.uid} is shut down: cannot run task "${def.name}"`);
    let validating: Promise<unknown[] | InputValidationError> | null = null;
    const inputs = def.contract?.inputs;
    if (inputs !== undefined && !holdsFuture(args)) {
      // Nothing to wait for: a bad literal throws here, at the caller's line, and no task is made.
      const checked = checkInputs(def, inputs, args);
      if (checked instanceof InputValidationError) throw checked;
      if (checked instanceof Promise) validating = checked;
      else args = checked;
    }
    const f = TaskFuture._create(def, ++this.#lastId, args);
    f._created = this.now();
    let ended: TaskFuture | null;
    try {
      ended = link(f, args);
    } catch (error) {
      if (error instanceof ArgumentDepthError) throw new InvalidTaskError(def.name, error.message);
      throw error;
    }
    const block = placeTask(f);
    if (block !== null && block._state === TaskState.CANCELLED) {
      this.live.add(f);
      if (this.observers.active) emitCreated(this.observers, this.uid, f);
      this.lifecycle.finish(f, TaskState.CANCELLED, blockCancelled(f, block));
      return f;
    }
    if (block !== null) {
      // A long block that streams tasks keeps its live ones, not every one it made.
      const children = block._children;
      block._children = children === null ? [f] : pushPruned(children, f, hasEnded);
    }
    if (this.live.size === 0) this.watch.busy(f._created);
    this.live.add(f);
    if (this.observers.active) emitCreated(this.observers, this.uid, f);
    if (this.log.debugOn) this.#registered(f);
    if (ended !== null) {
      // Held back (a wait nothing releases) until it ends: a sibling dependency finishing in a flush already
      // queued would otherwise bring its count to 0 and dispatch it first.
      f._waiting++;
      queueMicrotask(() => this.lifecycle.dependencyEnded(f, ended));
    }
    else if (validating !== null) this.#readyOnceValid(f, validating);
    else if (f._waiting === 0) this.dispatcher.ready(f);
    return f;
  }

  #registered(f: TaskFuture): void {
    const deps = f._deps === null ? "no dependencies" : `dependencies ${depKeys(f._deps).map(depUid).join(", ")} (waiting on ${f._waiting})`;
    const inBlock = f._parent === null ? "" : ` in block ${f._parent.uid} (${f._parent.name})`;
    const label = f._def.options.label === undefined ? "" : ` "${f._def.options.label}"`;
    this.log.debug(f.uid, `${f.name}${label}: registered${inBlock}, ${deps}`, f._workflow ?? undefined);
  }

  // An asynchronous `inputs` schema cannot throw at the call: the task fails with its error instead.
  #readyOnceValid(f: TaskFuture, validating: Promise<unknown[] | InputValidationError>): void {
    whileValidating(f, validating).then(
      (r) => {
        if (f._state !== TaskState.PENDING) return;
        if (r instanceof InputValidationError) this.lifecycle.finish(f, TaskState.FAILED, r);
        else {
          f._args = r;
          this.dispatcher.ready(f);
        }
      },
      (e: unknown) => this.lifecycle.finish(f, TaskState.FAILED, e),
    );
  }

  cancel(f: TaskFuture, reason: string): boolean {
    if (isFinal(f._state)) return false;
    return this.lifecycle.finish(f, TaskState.CANCELLED, new TaskCancelledError(f, reason));
  }

  /** Runs a done-callback; one that throws is logged, never breaks the engine. */
  callback(f: TaskFuture, cb: HeldCallback): void {
    try {
      // cb was given to f itself (addDoneCallback): its T is f's.
      (cb as DoneCallback<unknown>)(f);
    } catch (error) {
      this.log.error(f.uid, `a done-callback of ${f.name} threw: ${describe(error)}`, f._workflow ?? undefined);
    }
  }
}

/** Whether any argument is, or holds, a future. */
function holdsFuture(args: readonly unknown[]): boolean {
  if (!hasObject(args)) return false;
  let found = false;
  try {
    forEachFuture(args, () => (found = true));
  } catch {
    return true; // too deep: link() says so
  }
  return found;
}

/** How many tasks a FlowStalled event describes. */
const STALLED_ROWS = 10;

/** The `n` running tasks that started first; with none running, the `n` oldest unfinished (what they all wait on is queued). */
function oldestRunning(live: readonly TaskFuture[], n: number): TaskFuture[] {
  const running = live.filter((f) => f._state === TaskState.RUNNING).sort((a, b) => a._started - b._started);
  return (running.length > 0 ? running : live).slice(0, n);
}

const hasEnded = (f: TaskFuture): boolean => isFinal(f._state);
