import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import type { Graph } from "@dagrejs/graphlib";
import type { z } from "zod";
import { alreadyAttached, type ExecutionBackend } from "../contract/backend.js";
import { AsyncflowError, EngineShutdownError, InvalidOptionsError, InvalidTaskError, describe } from "../contract/errors.js";
import type { FlowListener } from "../contract/events.js";
import { Logger } from "../contract/log.js";
import { openTelemetry } from "../contract/tracecontext.js";
import { parseOptions } from "../contract/options.js";
import { TaskKind } from "../contract/states.js";
import type { AnyTaskOptions, BlockOptions, Command, ExecutableTaskOptions, FunctionTaskOptions } from "../contract/task.js";
import type { TaskFuture } from "./future.js";
import { exportGraph, type NodeLabel } from "./graph.js";
import { epoch } from "./observe.js";
import type { engineOptionsSchema } from "./options.js";
import { SpanBridge } from "./otel.js";
import { inScope } from "./scope.js";
import { Session } from "./session.js";
import { unwatchExit, unwatchSignals, watchExit, watchSignals, type Reporting } from "./signals.js";
import type { InspectRow } from "../contract/inspect.js";
import { Explainer } from "./explain.js";
import { LiveView } from "./inspect.js";
import { explainRoots, table } from "./unfinished.js";
import { defineTask, taskName, type TaskWrapper } from "./task.js";
import { memoPolicy } from "./identity.js";
import { FileStore } from "./file-store.js";
import { TraceFile } from "./trace.js";
import type { Schema, SchemaInput, SchemaOutput } from "../contract/schema.js";

/** Backends given to an engine that started: an instance serves one engine, for good (it is shut down with it). */
const claimed = new WeakSet<ExecutionBackend>();

// With `inputs`, the wrapper's parameters follow the schema's input type, and
// the body receives its output; a schema that does not say its types gives `unknown[]`.
type ArgsIn<S> = SchemaInput<S> extends unknown[] ? SchemaInput<S> : unknown[];
type ArgsOut<S> = SchemaOutput<S> extends unknown[] ? SchemaOutput<S> : unknown[];
/** What a body with an `output` schema returns for it: what the schema takes (the task's result is what it gives). */
type Returns<O> = SchemaInput<O> | PromiseLike<SchemaInput<O>>;
/** The task's result: what `output` gives; the body's result `R` without one, or with one that does not say (options typed `FunctionTaskOptions`). */
type Result<R, O> = unknown extends SchemaOutput<O> ? R : SchemaOutput<O>;

// A schema the body does not fit fails every run, yet the last two overloads
// of each kind, typed by the body, would take it: they check it. A result
// that `output` may narrow (`unknown`, or `number | string` for z.number())
// is what `output` is for, and is taken. `| undefined`: options typed
// `FunctionTaskOptions` may hold an explicit undefined (exactOptionalPropertyTypes).
/** `output`, checked: a schema a result of type `R` may pass. */
type CheckedOutput<O, R> = { output?: (O & OutputFits<O, R>) | undefined };
/** `inputs`, checked: a schema whose output parameters `A` take (any, when it does not say). */
type CheckedInputs<S, A> = { inputs?: (S & InputsFit<S, A>) | undefined };
type OutputFits<O, R> = Check<Meets<R, SchemaInput<O>>, { readonly "the body's result cannot pass `output`": R; readonly "`output` takes": SchemaInput<O> }>;
type InputsFit<S, A> = Check<
  unknown extends SchemaOutput<S> ? true : [SchemaOutput<S>] extends [A] ? true : false,
  { readonly "the body's parameters do not take what `inputs` gives": A; readonly "`inputs` gives": SchemaOutput<S> }
>;
/**
 * Whether some value may be both an `X` and a `Y`: refused only where TypeScript sees none (a string for a number, a
 * literal for another), not where the two merely differ (`readonly [1, 2]` and `number[]`, an object narrower in one
 * field and wider in another). `never`, a body that only throws, fits anything.
 */
type Meets<X, Y> = [X] extends [never] ? true : [X & Y] extends [never] ? false : true;
// A schema (or body) whose type is a type parameter, as in a generic helper
// `<O extends z.ZodType>(output: O) => flow.functionTask(fn, { output })`,
// cannot be checked: the verdict waits for its type. A value is taken for an
// indexed access by the access's constraint, here either outcome, so such a
// schema is taken unchecked, as before; a conditional type alone would refuse
// it (a value must fit both of its branches while it waits).
/** `unknown` when `Ok`; otherwise `Refusal`, whose members the error shows. */
type Check<Ok extends boolean, Refusal> = ([Ok] extends [true] ? { pass: unknown } : { pass: Refusal })["pass"];

type OptionsModule = typeof import("./options.js");

/** Options of {@link WorkflowEngine.create}; documented, with their defaults, in `options.ts`. */
export type EngineOptions = z.input<typeof engineOptionsSchema>;

/**
 * The backends the engine uses when told none, wired in by the package entry
 * (the engine knows no concrete backend).
 */
export interface DefaultBackends {
  /** The backend of an engine created without `backend`. */
  readonly backend: () => ExecutionBackend;
  /** What takes the place of the backend named `name` in a dry run. */
  readonly dryRun: (name: string) => ExecutionBackend;
}

/**
 * Wraps functions into tasks and runs their dependency graph on execution
 * backends. Calling a wrapper returns a {@link TaskFuture} at once; passing
 * futures as arguments makes the edges.
 *
 * @example
 * const flow = await WorkflowEngine.create();
 * try {
 *   const echo = flow.executableTask((n: number) => `/bin/echo ${n}`);
 *   const times = flow.functionTask((s: string, k: number) => Number(s.trim()) * k);
 *   console.log(await times(echo(5), 4)); // 20
 * } finally {
 *   await flow.shutdown();
 * }
 */
export class WorkflowEngine {
  readonly #session: Session;
  readonly #options: OptionsModule;
  readonly #handleSignals: boolean;
  readonly #trace: TraceFile | null;
  readonly #dumpSignal: NodeJS.Signals | false;
  readonly #reporting: Reporting;
  // What SIGINT/SIGTERM shut down: a run stopped by a signal is not whole, whatever it had finished.
  readonly #interruptible = { shutdown: (): Promise<void> => ((this.#session.memo.wholeRun = false), this.shutdown()) };
  #shutdown: Promise<void> | null = null;

  /** @internal set by the package entry's WorkflowEngine; see {@link DefaultBackends} */
  protected static readonly defaults: DefaultBackends | null = null;

  protected constructor(session: Session, options: OptionsModule, handleSignals: boolean, dumpSignal: NodeJS.Signals | false, trace: TraceFile | null) {
    this.#session = session;
    this.#options = options;
    this.#handleSignals = handleSignals;
    this.#dumpSignal = dumpSignal;
    this.#trace = trace;
    if (handleSignals) watchSignals(this.#interruptible);
    // What the process prints of this engine at exit (if never shut down) and on the dump signal.
    this.#reporting = {
      // What is unfinished and why, and the failures nobody looked at (which shutdown() would have logged).
      unfinished: () => {
        const n = session.live.size;
        const failed = session.unobserved.summary();
        if (n === 0 && failed.length === 0) return [];
        const head = `asyncflow: the process is exiting, but engine ${session.uid} was not shut down`;
        const why = n === 0 ? [] : explainRoots(session.live.toArray(), performance.now(), 19);
        return [n === 0 ? `${head}:` : `${head} and ${n} task(s) are unfinished:`, ...[...why, ...failed].map((l) => `  ${l}`)];
      },
      dump: () => {
        const rows = this.inspect();
        const lines = rows.length === 0 ? [] : explainRoots(session.live.toArray(), performance.now());
        return [`asyncflow: engine ${session.uid}: ${rows.length} unfinished task(s)`, ...table(rows).map((l) => `  ${l}`), ...lines.map((l) => `  ${l}`)];
      },
    };
    watchExit(this.#reporting, dumpSignal);
  }

  /** Validates the options, attaches every backend and returns a running engine. */
  static async create(options: EngineOptions = {}): Promise<WorkflowEngine> {
    const mod = await import("./options.js");
    const opts = parseOptions(mod.engineOptionsSchema, options, (m) => new InvalidOptionsError(`WorkflowEngine.create: ${m}`));
    const defaults = this.defaults;
    if (defaults === null) throw new InvalidOptionsError("WorkflowEngine.create: no default backends are wired in: import WorkflowEngine from the package entry");
    const given = opts.backend === undefined ? [defaults.backend()] : Array.isArray(opts.backend) ? opts.backend : [opts.backend];
    const names = new Set<string>();
    for (const b of given) {
      if (names.has(b.name)) throw new InvalidOptionsError(`WorkflowEngine.create: two backends are named "${b.name}": give each a unique \`name\``);
      // Refused here, before anything is opened: a failed create shuts its backends down, and this one is another engine's.
      if (!opts.dryRun && claimed.has(b)) throw new InvalidOptionsError(`WorkflowEngine.create: ${alreadyAttached(b.name)}`);
      names.add(b.name);
    }
    const backends = opts.dryRun ? given.map((b) => defaults.dryRun(b.name)) : given;
    const uid = opts.uid;
    const log = new Logger(undefined, undefined, { sessionId: uid, logger: opts.logger });
    // A dry run's placeholders are nobody's results: it neither reads nor writes the checkpoint.
    const ckpt = opts.checkpoint === false || opts.dryRun ? null : typeof opts.checkpoint === "string" ? { path: opts.checkpoint, sync: true, compact: true } : opts.checkpoint;
    const store = ckpt === null ? null : await openCheckpoint(resolve(opts.workDir, ckpt.path), ckpt, log);
    const tracePath = opts.trace ?? (process.env.ASYNCFLOW_TRACE || undefined);
    let trace: TraceFile | null;
    try {
      trace = tracePath === undefined ? null : new TraceFile(tracePath, uid, log);
    } catch (error) {
      await store?.close(false); // its lock: a create that failed holds nothing
      throw error;
    }
    const session = new Session({ uid, workDir: opts.workDir, log, history: opts.history, backends, stallTimeout: opts.stallTimeout, store });
    const observers = session.observers;
    if (trace !== null) observers.subscribe(trace.write);
    const otel = await openTelemetry();
    if (otel !== null) {
      session.spans = new SpanBridge(otel, uid, [...names]);
      observers.subscribe(session.spans.listen);
    }
    if (observers.active) {
      observers.emit({ type: "SessionStarted", sessionId: uid, time: epoch(performance.now()), pid: process.pid, host: hostname(), backends: [...names] });
    }
    // The BlockRunner last: `failed` below indexes the user's backends.
    const attached = await Promise.allSettled(
      [...backends, session.blocks].map(async (b) => {
        // A backend's own news (no worker serves the queue, Redis unreachable) is an event as well as a line.
        const noticed = log.tapped((level, _uid, message) => {
          if (observers.active) observers.emit({ type: "BackendNotice", sessionId: uid, time: epoch(performance.now()), backend: b.name, level, message });
        });
        return b.attach(session.dispatcher.report, { sessionUid: uid, workDir: session.workDir, log: noticed, observed: () => observers.active });
      }),
    );
    const failed = attached.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      await Promise.allSettled([...backends.map((b) => b.shutdown()), store?.close(false)]);
      trace?.close();
      const reason: unknown = (attached[failed] as PromiseRejectedResult).reason;
      if (reason instanceof InvalidOptionsError) throw reason; // already says what is wrong
      throw new AsyncflowError(`WorkflowEngine.create: backend "${backends[failed]!.name}" failed to start: ${describe(reason)}`, { cause: reason });
    }
    if (!opts.dryRun) for (const b of given) claimed.add(b);
    log.debug(session.uid, `started with backends ${[...names].join(", ")}${opts.dryRun ? " (dry run)" : ""}`);
    return new this(session, mod, opts.handleSignals, opts.dumpSignal, trace);
  }

  /** The session id. */
  get uid(): string {
    return this.#session.uid;
  }
  get workDir(): string {
    return this.#session.workDir;
  }
  /** Names of the backends, the default first. */
  get backends(): string[] {
    return [...this.#session.backends.keys()];
  }

  /**
   * Calls `listener` with every lifecycle event, synchronously as it happens:
   * per task TaskCreated, TaskResolved, TaskSubmitted, TaskStarted, then one of
   * TaskCompleted, TaskFailed or TaskCanceled (a task that never runs skips
   * the steps it never reached); and BackendNotice, SessionEnded. A listener
   * that throws is logged and disturbs nothing.
   * @returns a function that unsubscribes `listener`.
   */
  subscribe(listener: FlowListener): () => void {
    if (typeof listener !== "function") throw new TypeError(`subscribe expects a function, got ${typeof listener}`);
    return this.#session.observers.subscribe(listener);
  }

  /**
   * Runs `fn`; every task created inside it, at any async depth, carries
   * `workflowId` (made up when undefined, and passed to `fn`) in its events,
   * its log lines and its spans. Concurrent scopes never mix; a scope opened
   * inside a block's body names the tasks made there.
   */
  workflowScope<R>(workflowId: string | undefined, fn: (workflowId: string) => R): R {
    if (workflowId !== undefined && (typeof workflowId !== "string" || workflowId === "")) {
      throw new TypeError(`workflowScope expects a non-empty string or undefined as its id, got ${JSON.stringify(workflowId)}`);
    }
    if (typeof fn !== "function") throw new TypeError(`workflowScope expects a function, got ${typeof fn}`);
    return inScope(workflowId, fn);
  }

  /**
   * Wraps `fn` (sync or async) into a task run by a backend. With `inputs`, the
   * wrapper's parameters are the schema's input type and `fn` receives its output;
   * with `output`, the result is the schema's output. A schema `fn` cannot fit
   * (its parameters, its result) is a type error here.
   */
  functionTask<S extends Schema, O extends Schema>(fn: (...args: ArgsOut<S>) => Returns<O>, opts: FunctionTaskOptions & { inputs: S; output: O }): TaskWrapper<ArgsIn<S>, SchemaOutput<O>>;
  functionTask<A extends unknown[], O extends Schema>(fn: (...args: A) => Returns<O>, opts: FunctionTaskOptions & { inputs?: undefined; output: O }): TaskWrapper<A, SchemaOutput<O>>;
  functionTask<S extends Schema, R, O = Schema>(fn: (...args: ArgsOut<S>) => R, opts: FunctionTaskOptions & { inputs: S } & CheckedOutput<O, Awaited<R>>): TaskWrapper<ArgsIn<S>, Result<Awaited<R>, O>>;
  functionTask<A extends unknown[], R, S = Schema, O = Schema>(fn: (...args: A) => R, opts?: FunctionTaskOptions & CheckedInputs<S, A> & CheckedOutput<O, Awaited<R>>): TaskWrapper<A, Result<Awaited<R>, O>>;
  functionTask<A extends unknown[], R>(fn: (...args: A) => R, opts?: FunctionTaskOptions): TaskWrapper<A, Awaited<R>> {
    return this.#define(TaskKind.FUNCTION, fn, opts, this.#options.functionOptionsSchema) as TaskWrapper<A, Awaited<R>>;
  }

  /**
   * Wraps `fn`, which returns a command (a string run by `/bin/sh -c`, or an
   * argv array run without a shell), into a task whose result is the stdout
   * (or, with `output`, the schema's output for it).
   */
  executableTask<S extends Schema, O extends Schema>(fn: (...args: ArgsOut<S>) => Command | PromiseLike<Command>, opts: ExecutableTaskOptions & { inputs: S; output: O & OutputFits<O, string> }): TaskWrapper<ArgsIn<S>, SchemaOutput<O>>;
  executableTask<A extends unknown[], O extends Schema>(fn: (...args: A) => Command | PromiseLike<Command>, opts: ExecutableTaskOptions & { inputs?: undefined; output: O & OutputFits<O, string> }): TaskWrapper<A, SchemaOutput<O>>;
  executableTask<S extends Schema, O = Schema>(fn: (...args: ArgsOut<S>) => Command | PromiseLike<Command>, opts: ExecutableTaskOptions & { inputs: S } & CheckedOutput<O, string>): TaskWrapper<ArgsIn<S>, Result<string, O>>;
  executableTask<A extends unknown[], S = Schema, O = Schema>(fn: (...args: A) => Command | PromiseLike<Command>, opts?: ExecutableTaskOptions & CheckedInputs<S, A> & CheckedOutput<O, string>): TaskWrapper<A, Result<string, O>>;
  executableTask(fn: (...args: never[]) => Command | PromiseLike<Command>, opts?: ExecutableTaskOptions): unknown {
    return this.#define(TaskKind.EXECUTABLE, fn, opts, this.#options.executableOptionsSchema);
  }

  /**
   * Wraps `fn` into a composite task: its body runs in the engine once its
   * arguments are resolved, and the tasks it creates belong to it (cancelling
   * the block cancels them).
   */
  block<S extends Schema, O extends Schema>(fn: (...args: ArgsOut<S>) => Returns<O>, opts: BlockOptions & { inputs: S; output: O }): TaskWrapper<ArgsIn<S>, SchemaOutput<O>>;
  block<A extends unknown[], O extends Schema>(fn: (...args: A) => Returns<O>, opts: BlockOptions & { inputs?: undefined; output: O }): TaskWrapper<A, SchemaOutput<O>>;
  block<S extends Schema, R, O = Schema>(fn: (...args: ArgsOut<S>) => R, opts: BlockOptions & { inputs: S } & CheckedOutput<O, Awaited<R>>): TaskWrapper<ArgsIn<S>, Result<Awaited<R>, O>>;
  block<A extends unknown[], R, S = Schema, O = Schema>(fn: (...args: A) => R, opts?: BlockOptions & CheckedInputs<S, A> & CheckedOutput<O, Awaited<R>>): TaskWrapper<A, Result<Awaited<R>, O>>;
  block<A extends unknown[], R>(fn: (...args: A) => R, opts?: BlockOptions): TaskWrapper<A, Awaited<R>> {
    return this.#define(TaskKind.BLOCK, fn, opts, this.#options.blockOptionsSchema, this.#session.blocks) as TaskWrapper<A, Awaited<R>>;
  }

  /** `runner`: where every task of this definition runs; by default the backend its options name. */
  #define(kind: TaskKind, fn: unknown, opts: unknown, schema: z.ZodType, runner?: ExecutionBackend): unknown {
    const session = this.#session;
    const optName = typeof opts === "object" && opts !== null ? (opts as { name?: unknown }).name : undefined;
    const label = typeof optName === "string" ? optName : typeof fn === "function" ? taskName(fn) : "anonymous";
    if (session.closed) throw new EngineShutdownError(`engine ${session.uid} is shut down: cannot define task "${label}"`);
    if (typeof fn !== "function") {
      throw new InvalidTaskError(label, `expected a function to wrap, got ${fn === null ? "null" : typeof fn}`);
    }
    const options = parseOptions(schema, opts, (m) => new InvalidTaskError(label, m)) as AnyTaskOptions;
    const backend = runner ?? session.backendFor(options.backend, label);
    backend.validate?.({ name: options.name ?? label, kind, fn: fn as (...args: never[]) => unknown, options });
    const memo = memoPolicy(kind, fn, options, options.name ?? label, session.memo, session.log);
    return defineTask(session, kind, fn as (...args: never[]) => unknown, options, backend, memo);
  }

  /**
   * A @dagrejs/graphlib Graph of the live tasks and the retained history:
   * node = uid with label `{ name, state, kind }`, edge = dependency -> dependent.
   */
  graph(): Graph<object, NodeLabel, undefined> {
    return exportGraph(this.#session.history.records(), this.#session.live);
  }

  /**
   * One row per unfinished task, in the order they were created: its state
   * and why it is not done (`reason`: WAITING on `waitingFor`, VALIDATING its
   * arguments with an asynchronous `inputs` schema, QUEUED in a
   * full backend with the backend's figures, NO_WORKER, RUNNING on `where`,
   * STALLED), its age and time in its state. O(tasks + edges).
   */
  inspect(): InspectRow[] {
    const live = this.#session.live.toArray();
    const view = new LiveView(live, performance.now());
    return live.map((f) => view.row(f));
  }

  /**
   * Why `future` is not done, in a sentence: the chain of waits from it down
   * to what holds it up, fan-ins grouped by what holds their inputs up. For a
   * finished future, how it ended (for a failure, the task that failed first
   * and its error). Linear in the unfinished tasks.
   */
  explain<T>(future: TaskFuture<T>): string {
    const session = this.#session;
    if (typeof future !== "object" || future === null || (future as Partial<TaskFuture<T>>)._def?.session !== session) {
      throw new TypeError(`explain expects a future of engine ${session.uid}`);
    }
    return new Explainer(new LiveView(session.live.toArray(), performance.now())).explain(future);
  }

  /** Tasks that have not finished yet, in the order they were created. */
  pending(): TaskFuture[] {
    return this.#session.live.toArray();
  }

  /**
   * Cancels every pending and running task and shuts every backend down.
   * Idempotent and safe to call concurrently; afterwards the process has no
   * handle of ours left and exits by itself.
   */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= this.#close());
  }

  async #close(): Promise<void> {
    const session = this.#session;
    session.closed = true;
    for (const f of session.live.toArray()) session.cancel(f, "the engine is shutting down");
    // Its timer, left armed (unref'd) when the last limit went, would hold the whole session until it fired (an hour's timeout: an hour).
    session.attempts.clear();
    if (this.#handleSignals) unwatchSignals(this.#interruptible);
    unwatchExit(this.#reporting, this.#dumpSignal);
    session.watch.stop();
    const results = await Promise.allSettled([...session.backends.values(), session.blocks].map((b) => b.shutdown()));
    for (const r of results) {
      if (r.status === "rejected") session.log.error(session.uid, `backend shutdown failed: ${describe(r.reason)}`);
    }
    // A run that stopped short (a failure, a cancel, a signal) did not ask for every record it would have used: none is dropped.
    await session.memo.store?.close(session.memo.wholeRun);
    for (const line of session.unobserved.summary()) session.log.warn(session.uid, line);
    const observers = session.observers;
    if (observers.active) observers.emit({ type: "SessionEnded", sessionId: session.uid, time: epoch(performance.now()) });
    this.#trace?.close();
    session.log.debug(session.uid, "shut down");
  }
}

/** The checkpoint file, or an options error naming it when it cannot be opened (a lock held by another engine stays CheckpointLockedError). */
async function openCheckpoint(path: string, o: { sync: boolean; compact: boolean }, log: Logger): Promise<FileStore> {
  try {
    return await FileStore.open(path, o, log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const why = code === "ENOENT" ? `its directory ${dirname(path)} does not exist` : describe(error);
    throw new InvalidOptionsError(`WorkflowEngine.create: option \`checkpoint\`: cannot open ${path}: ${why}`, { cause: error });
  }
}
