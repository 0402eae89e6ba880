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

/** A task did not run because one of its dependencies failed. */
export class DependencyFailureError extends AsyncflowError {
  override name = "DependencyFailureError";
  readonly taskUid: string;
  readonly taskName: string;
  /** Names of the direct dependencies that failed. */
  readonly failedDependencies: readonly string[];
  /** The error that started the failure, however long the chain: never a DependencyFailureError. */
  readonly rootCause: unknown;

  constructor(task: TaskLabel, failed: TaskLabel, error: unknown) {
    const rootCause = error instanceof DependencyFailureError ? error.rootCause : error;
    super(`${label(task)} did not run: dependency ${label(failed)} failed: ${describe(rootCause)}`, { cause: error });
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.failedDependencies = [failed.name];
    this.rootCause = rootCause;
  }
}

/** A task was cancelled, by `cancel()`, by its block, by a cancelled dependency or by shutdown. */
export class TaskCancelledError extends AsyncflowError {
  override name = "TaskCancelledError";
  readonly taskUid: string;
  readonly taskName: string;
  readonly reason: string;

  constructor(task: TaskLabel, reason: string) {
    super(`${label(task)} was cancelled: ${reason}`);
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.reason = reason;
  }
}

/** An executable task's process exited non-zero, was killed by a signal, or could not start. */
export class ExecutableError extends AsyncflowError {
  override name = "ExecutableError";
  readonly taskUid: string;
  readonly taskName: string;
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
    const tail = fields.stderr.trim().split("\n").slice(-3).join("\n");
    super(`${label(task)}: command ${JSON.stringify(fields.command)} ${why}${tail ? `\n${tail}` : ""}`, {
      cause: fields.cause,
    });
    this.taskUid = task.uid;
    this.taskName = task.name;
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
  return String(error);
}

/** The worker thread (or process) running a task died: exited, ran out of memory, or was terminated. */
export class WorkerCrashError extends AsyncflowError {
  override name = "WorkerCrashError";
  readonly taskUid: string;
  readonly taskName: string;

  constructor(task: TaskLabel, cause: unknown) {
    super(`${label(task)}: its worker died: ${describe(cause)}`, { cause });
    this.taskUid = task.uid;
    this.taskName = task.name;
  }
}

/** One problem a schema found: where in the value (`[0].x`) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

const issueList = (issues: readonly SchemaIssue[]): string =>
  issues.map((i) => (i.path === "" ? i.message : `at ${i.path}: ${i.message}`)).join("; ");

/**
 * A task's arguments do not match its `inputs` schema: thrown at the call when
 * no argument holds a future (no task is made, `taskUid` is undefined), else
 * the task fails with it once its dependencies resolve, before any backend sees it.
 */
export class InputValidationError extends AsyncflowError {
  override name = "InputValidationError";
  readonly taskUid: string | undefined;
  readonly taskName: string;
  /** The position of the first offending argument, or null when the problem is the argument list as a whole. */
  readonly position: number | null;
  /** Where in that argument, e.g. `.items[2]` (empty for the argument itself). */
  readonly path: string;
  readonly issues: readonly SchemaIssue[];

  constructor(task: { readonly uid?: string; readonly name: string }, issues: readonly SchemaIssue[]) {
    const first = issues[0] ?? { path: "", message: "invalid" };
    const m = /^\[(\d+)\](.*)$/.exec(first.path);
    const who = task.uid === undefined ? `Task ${JSON.stringify(task.name)}` : `${task.uid} (${task.name})`;
    const where = m === null ? "its arguments" : `argument ${m[1]}${m[2] === "" ? "" : ` at ${m[2]}`}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issueList(issues.slice(1))})` : "";
    super(`${who}: ${where} does not match its inputs schema: ${first.message}${more}`);
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.position = m === null ? null : Number(m[1]);
    this.path = m === null ? first.path : m[2]!;
    this.issues = issues;
  }
}

/** A task's result does not match its `output` schema; dependents fail with it as their root cause. */
export class OutputValidationError extends AsyncflowError {
  override name = "OutputValidationError";
  readonly taskUid: string;
  readonly taskName: string;
  readonly issues: readonly SchemaIssue[];

  constructor(task: TaskLabel, issues: readonly SchemaIssue[]) {
    super(`${label(task)}: its result does not match its output schema: ${issueList(issues)}`);
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.issues = issues;
  }
}

/**
 * Thrown by `taskContext().exit(label)`, wherever the body runs; the engine
 * turns it into the task's {@link ExitCodeError}. Bodies need not catch it.
 */
export class ExitRequest extends AsyncflowError {
  override name = "ExitRequest";
  readonly label: string;

  constructor(exitLabel: string) {
    super(`exit(${JSON.stringify(exitLabel)}) was called`);
    this.label = exitLabel;
  }
}

/**
 * A task ended with one of its declared exit codes: by `taskContext().exit(label)`,
 * or (executables) by a process exit status declared in `exitCodes`, whose
 * ExecutableError is the `cause` and whose `command`, `stdout`, `stderr` it carries.
 */
export class ExitCodeError extends AsyncflowError {
  override name = "ExitCodeError";
  readonly taskUid: string;
  readonly taskName: string;
  readonly label: string;
  readonly exitStatus: number;
  readonly exitMessage: string;
  /** Whether the exit code was declared `retry: true`. */
  readonly retryable: boolean;
  readonly command?: string | readonly string[];
  readonly stdout?: string;
  readonly stderr?: string;

  constructor(task: TaskLabel, code: { label: string; status: number; message: string; retry: boolean }, cause?: ExecutableError | ExitRequest) {
    super(`${label(task)}: exited with ${code.label} (${code.status})${code.message === "" ? "" : `: ${code.message}`}`, { cause });
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.label = code.label;
    this.exitStatus = code.status;
    this.exitMessage = code.message;
    this.retryable = code.retry;
    if (cause instanceof ExecutableError) {
      this.command = cause.command;
      this.stdout = cause.stdout;
      this.stderr = cause.stderr;
    }
  }
}

/** Throw it from a body to fail the task at once: it is never retried, whatever `retries` says. */
export class NonRetryableError extends AsyncflowError {
  override name = "NonRetryableError";
}

/**
 * An attempt ran longer than the task's `timeout` (`what: "attempt"`, retried
 * like any failure), or all attempts together passed its `deadline`
 * (`what: "deadline"`, final; `cause` is the last attempt's failure, if any).
 * For an executable's attempt it carries the ExecutableError's fields.
 */
export class TaskTimeoutError extends AsyncflowError {
  override name = "TaskTimeoutError";
  readonly taskUid: string;
  readonly taskName: string;
  readonly what: "attempt" | "deadline";
  /** The limit that was passed, in milliseconds. */
  readonly ms: number;
  readonly attempt: number;
  readonly command?: string | readonly string[];
  readonly exitCode?: number | null;
  readonly signal?: NodeJS.Signals | null;
  readonly stdout?: string;
  readonly stderr?: string;

  constructor(task: TaskLabel, fields: { what: "attempt" | "deadline"; ms: number; attempt: number; cause?: unknown }) {
    const what = fields.what === "attempt" ? `attempt ${fields.attempt} timed out after ${fields.ms} ms` : `passed its deadline of ${fields.ms} ms (at attempt ${fields.attempt})`;
    super(`${label(task)}: ${what}`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.what = fields.what;
    this.ms = fields.ms;
    this.attempt = fields.attempt;
    const c = fields.cause;
    if (c instanceof ExecutableError) {
      this.command = c.command;
      this.exitCode = c.exitCode;
      this.signal = c.signal;
      this.stdout = c.stdout;
      this.stderr = c.stderr;
    }
  }
}
