/** Task options as every backend sees them, and what an executable task's function returns. */

/** Options every kind of task takes. */
export interface TaskOptions {
  /** Shown in uids' companions, logs, errors and `graph()`. @default fn.name */
  name?: string;
  /** The backend that runs the task, by its name. @default the engine's first backend */
  backend?: string;
}

export interface FunctionTaskOptions extends TaskOptions {
  /**
   * A module (URL or path) that exports the function as `name ?? fn.name`.
   * Backends that run tasks elsewhere (threads) import it there instead of
   * shipping the function's source.
   */
  module?: string | URL;
  /**
   * Worker backends: move ArrayBuffers (and the buffers of typed arrays) in the
   * arguments, and a result that is one, instead of copying them. The sender's
   * buffers are detached afterwards. @default false
   */
  transfer?: boolean;
}

export interface ExecutableTaskOptions extends TaskOptions {
  /** Working directory of the process. @default the engine's workDir */
  cwd?: string;
  /** Variables added to the parent's environment. */
  env?: Record<string, string>;
  /** Milliseconds before the process is sent SIGTERM and the task fails. */
  timeout?: number;
  /** Write stdout/stderr to `<workDir>/<session uid>/<task uid>.stdout|.stderr`; the task resolves to the stdout path. */
  captureStdio?: boolean;
}

/** Every option a run may carry, as a backend sees them. */
export type AnyTaskOptions = FunctionTaskOptions & ExecutableTaskOptions;

/** What an executable task's function returns: a shell command line, or an argv array run without a shell. */
export type Command = string | readonly string[];
