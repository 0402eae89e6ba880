/**
 * asyncflow: wrap functions into tasks, pass futures as arguments, and the
 * engine runs the dependency graph on pluggable execution backends.
 *
 * @example
 * import { WorkflowEngine } from "asyncflow";
 * const flow = await WorkflowEngine.create();
 * try {
 *   const echo = flow.executableTask((n: number) => `/bin/echo ${n}`);
 *   const times = flow.functionTask((s: string, k: number) => Number(s.trim()) * k);
 *   console.log(await times(echo(5), 4)); // 20: only the root is awaited
 * } finally {
 *   await flow.shutdown();
 * }
 * @module
 */
// Our declarations name Node's types (`NodeJS.Signals`, `URL`, `ChildProcess`). TypeScript 6+
// no longer loads every `@types` package by default (`types: []`), so the published
// `index.d.ts` loads `@types/node` itself; `preserve` keeps the line in the emitted file.
/// <reference types="node" preserve="true" />
import { WorkflowEngine as Engine, type DefaultBackends } from "./engine/engine.js";
import { LocalBackend } from "../backends/local/index.js";
import { NoopBackend } from "../backends/noop/index.js";

/**
 * Wraps functions into tasks and runs their dependency graph on execution
 * backends (see the engine's own docs). This entry is the one place that
 * wires the default backends into the engine: a {@link LocalBackend} when
 * `backend` is not given, a {@link NoopBackend} in each backend's place for
 * `dryRun`.
 */
export class WorkflowEngine extends Engine {
  /** @internal */
  protected static override readonly defaults: DefaultBackends = {
    backend: () => new LocalBackend(),
    dryRun: (name) => new NoopBackend({ name }),
  };
}

export type { EngineOptions } from "./engine/engine.js";
export { TaskFuture, type DoneCallback } from "./engine/future.js";
export { settled, optional, type Settled, type Edge } from "./engine/edges.js";
export { taskContext, type TaskContext } from "./contract/context.js";
export { TaskState, TaskKind, type FinalState } from "./contract/states.js";
export {
  AsyncflowError,
  TaskError,
  DependencyFailureError,
  TaskCancelledError,
  ExecutableError,
  EngineShutdownError,
  InvalidTaskError,
  InvalidOptionsError,
  InvalidStateError,
} from "./contract/errors.js";
export {
  InputValidationError,
  OutputValidationError,
  ExitCodeError,
  ExitRequest,
  NonRetryableError,
  TaskTimeoutError,
  type SchemaIssue,
} from "./contract/contract-errors.js";
export type { TaskOptions, FunctionTaskOptions, ExecutableTaskOptions, BlockOptions, AnyTaskOptions, ValidationOptions, AttemptOptions, Command } from "./contract/task.js";
export type { Schema, StandardSchema, SafeParseSchema, SchemaInput, SchemaOutput } from "./contract/schema.js";
export type { Input, Inputs, TaskWrapper } from "./engine/task.js";
export type { TaskRecord } from "./engine/history.js";
export type { NodeLabel } from "./engine/graph.js";
export type { LogLevel, LoggerLike, LogFields } from "./contract/log.js";
export type {
  FlowEvent,
  FlowEventType,
  FlowListener,
  EventOf,
  TaskEvent,
  TaskEventType,
  TaskEventBase,
  TerminalEvent,
  TerminalFields,
  SessionEvent,
  EventError,
  EventTaskKind,
  EventTaskState,
  TaskCreated,
  TaskResolved,
  TaskSubmitted,
  TaskStarted,
  TaskCompleted,
  TaskFailed,
  TaskCanceled,
  TaskRetry,
  TaskRedelivered,
  TaskSlow,
  SessionStarted,
  SessionEnded,
  BackendNotice,
  NoticeLevel,
  FlowStalled,
  InspectRow,
  InspectReason,
} from "./contract/events.js";
export { TaskRun } from "./contract/run.js";
export {
  isExecutionBackend,
  type ExecutionBackend,
  type ReportState,
  type RunInfo,
  type ReportedState,
  type BackendEnvironment,
} from "./contract/backend.js";
export { LocalBackend, NoopBackend };
export type { LocalBackendOptions } from "../backends/local/index.js";
export type { NoopBackendOptions } from "../backends/noop/index.js";
export { ThreadBackend, type ThreadBackendOptions } from "../backends/threads/index.js";
export { QueueBackend, type QueueBackendOptions } from "../backends/queue/index.js";
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from "../backends/queue/worker.js";
export type { RedisConnection } from "../backends/queue/redis.js";
export { BackendUnreachableError, JobRefusedError, WorkerCrashError, CheckpointLockedError, CheckpointError } from "./contract/errors.js";
export { serializeError, deserializeError, type SerializedError } from "./contract/codec.js";
export type { TaskDescription } from "./contract/backend.js";
export { TraceFileError, CommandLineError } from "./contract/errors.js";
export { toDot, toMermaid, type GraphLike, type GraphNodeLabel } from "./report/dot.js";
