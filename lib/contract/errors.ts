/**
 * Every error asyncflow raises is one of these classes: a stable `name`, the
 * standard `cause`, and the fields callers branch on.
 */

/** Names a task in messages: `task.000003 (times)`. */
export interface TaskLabel {
  readonly uid: string;
  readonly name: string;
}

const label = (t: TaskLabel): string => `${t.uid} (${t.name})`;

export class AsyncflowError extends Error {
  override name = "AsyncflowError";
}

/** An error about one task: its message starts with `task.000003 (times)`, and it names the task in fields. */
export class TaskError extends AsyncflowError {
  override name = "TaskError";
  readonly taskUid: string;
  readonly taskName: string;

  /** The message is `<uid> (<name>)` followed by `problem` (which starts with its own separator). */
  constructor(task: TaskLabel, problem: string, options?: ErrorOptions) {
    super(`${label(task)}${problem}`, options);
    this.taskUid = task.uid;
    this.taskName = task.name;
  }
}

/** A task did not run because one of its dependencies failed. */
export class DependencyFailureError extends TaskError {
  override name = "DependencyFailureError";
  /** Names of the direct dependencies that failed. */
  readonly failedDependencies: readonly string[];
  /** The error that started the failure, however long the chain: never a DependencyFailureError. */
  readonly rootCause: unknown;
  /** The task that failed first, however long the chain. */
  readonly rootTask: TaskLabel;

  constructor(task: TaskLabel, failed: TaskLabel, error: unknown) {
    const rootCause = error instanceof DependencyFailureError ? error.rootCause : error;
    super(task, ` did not run: dependency ${label(failed)} failed: ${describe(rootCause)}`, { cause: error });
    this.failedDependencies = [failed.name];
    this.rootCause = rootCause;
    this.rootTask = error instanceof DependencyFailureError ? error.rootTask : { uid: failed.uid, name: failed.name };
  }
}

/** A task was cancelled, by `cancel()`, by its block, by a cancelled dependency or by shutdown. */
export class TaskCancelledError extends TaskError {
  override name = "TaskCancelledError";
  readonly reason: string;

  constructor(task: TaskLabel, reason: string) {
    super(task, ` was cancelled: ${reason}`);
    this.reason = reason;
  }
}

/** How much of a command's stderr its ExecutableError's message carries (all of it is in `stderr`). */
const MESSAGE_TAIL = 2_000;

/** An executable task's process exited non-zero, was killed by a signal, or could not start. */
export class ExecutableError extends TaskError {
  override name = "ExecutableError";
  /** The command as the task returned it: a shell string or an argv array. */
  readonly command: string | readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    task: TaskLabel,
    fields: {
      command: string | readonly string[];
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderr: string;
      why?: string;
      cause?: unknown;
    },
  ) {
    const why =
      fields.why ?? (fields.signal ? `was killed by ${fields.signal}` : `exited with code ${fields.exitCode}`);
    // The last lines of stderr, and at most MESSAGE_TAIL characters of them: a progress bar's `\r`s make one line of megabytes.
    const tail = fields.stderr.trim().split("\n").slice(-3).join("\n").slice(-MESSAGE_TAIL);
    super(task, `: command ${JSON.stringify(fields.command)} ${why}${tail ? `\n${tail}` : ""}`, { cause: fields.cause });
    this.command = fields.command;
    this.exitCode = fields.exitCode;
    this.signal = fields.signal;
    this.stdout = fields.stdout;
    this.stderr = fields.stderr;
  }
}

/** The engine is shut down (or shutting down) and takes no new task. */
export class EngineShutdownError extends AsyncflowError {
  override name = "EngineShutdownError";
}

/** A task definition or call is malformed: a non-function, an unknown backend, bad options, a malformed command. */
export class InvalidTaskError extends AsyncflowError {
  override name = "InvalidTaskError";
  readonly taskName: string;

  constructor(taskName: string, problem: string, options?: ErrorOptions) {
    super(`Task ${JSON.stringify(taskName)}: ${problem}`, options);
    this.taskName = taskName;
  }
}

/** Options given to a constructor or factory do not validate. */
export class InvalidOptionsError extends AsyncflowError {
  override name = "InvalidOptionsError";
}

/** `result()` asked of a future that has not finished. */
export class InvalidStateError extends AsyncflowError {
  override name = "InvalidStateError";
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return safeString(error);
}

/** `String(x)`, or its `[object Tag]` for what String cannot convert (`Object.create(null)`, a throwing `toString`): any value may be thrown. */
export function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}

/** The worker thread (or process) running a task died: exited, ran out of memory, or was terminated. */
export class WorkerCrashError extends TaskError {
  override name = "WorkerCrashError";

  constructor(task: TaskLabel, cause: unknown) {
    super(task, `: its worker died: ${describe(cause)}`, { cause });
  }
}

/** A backend's server (Redis, for the queue) stayed unreachable: the runs it held fail with this. `address` never carries a password. */
export class BackendUnreachableError extends AsyncflowError {
  override name = "BackendUnreachableError";
  readonly address: string;

  constructor(message: string, address: string, options?: ErrorOptions) {
    super(message, options);
    this.address = address;
  }
}

/** A queue worker refused a job before running anything of it: malformed, unsigned or badly signed, or asking for what the worker does not allow. */
export class JobRefusedError extends AsyncflowError {
  override name = "JobRefusedError";
}

/** A checkpoint file is in use by another engine (this process or another one): refused rather than corrupted. */
export class CheckpointLockedError extends AsyncflowError {
  override name = "CheckpointLockedError";
  readonly path: string;
  /** The process holding it. */
  readonly pid: number;

  /**
   * @param why what to do, when not the usual (another program uses the file)
   * @param lock the lock file, named for the case where its pid is not the user's program
   */
  constructor(path: string, pid: number, why?: string, lock?: string) {
    const mine = pid === process.pid;
    // A pid is only alive or not: one reused after a restart, or another container's, looks like an owner.
    const notYours = mine || lock === undefined ? "" : ` (if process ${pid} is not one of yours, say its pid was reused after a restart or it runs in another container, remove ${lock})`;
    super(
      why !== undefined
        ? `checkpoint ${path}: ${why}`
        : `checkpoint ${path} is in use by process ${pid}${mine ? " (this one: another engine)" : ""}: ` +
            `give each concurrent program its own checkpoint file, or wait until that one has shut down${notYours}`,
    );
    this.path = path;
    this.pid = pid;
  }
}

/** A task's result could not be written to the checkpoint: the task fails with this rather than settle undurably. */
export class CheckpointError extends TaskError {
  override name = "CheckpointError";

  constructor(task: TaskLabel, path: string, cause: unknown) {
    super(task, `: its result could not be written to checkpoint ${path}: ${describe(cause)}`, { cause });
  }
}

/** A trace file (JSON lines of lifecycle events) is missing, unreadable, holds no event, or lacks the session or task asked for. */
export class TraceFileError extends AsyncflowError {
  override name = "TraceFileError";
  /** The trace file's path as given. */
  readonly file: string;

  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`trace ${file}: ${problem}`, options);
    this.file = file;
  }
}

/** A command line of the `asyncflow` command is malformed: an unknown option, a missing argument. */
export class CommandLineError extends AsyncflowError {
  override name = "CommandLineError";
  /** The usage text of the (sub)command, to print after the message. */
  readonly usage: string;

  constructor(problem: string, usage: string) {
    super(problem);
    this.usage = usage;
  }
}
