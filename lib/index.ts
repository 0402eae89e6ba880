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
export { WorkflowEngine, type EngineOptions } from "./engine/engine.js";
export { TaskFuture, type DoneCallback } from "./engine/future.js";
export { taskContext, type TaskContext } from "./contract/context.js";
export { TaskState, TaskKind, type FinalState } from "./contract/states.js";
export {
  AsyncflowError,
  DependencyFailureError,
  TaskCancelledError,
  ExecutableError,
  EngineShutdownError,
  InvalidTaskError,
  InvalidOptionsError,
  InvalidStateError,
} from "./contract/errors.js";
export type { TaskOptions, FunctionTaskOptions, ExecutableTaskOptions, AnyTaskOptions, Command } from "./contract/task.js";
export type { Input, Inputs, TaskWrapper } from "./engine/task.js";
export type { TaskRecord } from "./engine/history.js";
export type { NodeLabel } from "./engine/graph.js";
export type { LogLevel } from "./contract/log.js";
export { TaskRun } from "./contract/run.js";
export {
  isExecutionBackend,
  type ExecutionBackend,
  type ReportState,
  type RunInfo,
  type ReportedState,
  type BackendEnvironment,
} from "./contract/backend.js";
export { LocalBackend, type LocalBackendOptions } from "../backends/local/index.js";
export { NoopBackend, type NoopBackendOptions } from "../backends/noop.js";
export { ThreadBackend, type ThreadBackendOptions } from "../backends/threads/index.js";
export { QueueBackend, type QueueBackendOptions } from "../backends/queue/index.js";
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from "../backends/queue/worker.js";
export type { RedisConnection } from "../backends/queue/redis.js";
export { WorkerCrashError } from "./contract/errors.js";
export { serializeError, deserializeError, type SerializedError } from "./contract/codec.js";
export type { TaskDescription } from "./contract/backend.js";
