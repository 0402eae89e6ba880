/**
 * The errors of task contracts: arguments or a result that do not match their
 * schema, a declared exit code, a failure not worth retrying, a time limit
 * passed. Each has a stable `name`, the standard `cause` and the fields
 * callers branch on; the codec brings them back as themselves from workers.
 */
import { AsyncflowError, ExecutableError, TaskError, type TaskLabel } from "./errors.js";

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
    const where = m === null ? "its arguments do" : `argument ${m[1]}${m[2] === "" ? "" : ` at ${m[2]}`} does`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issueList(issues.slice(1))})` : "";
    super(`${who}: ${where} not match its inputs schema: ${first.message}${more}`);
    this.taskUid = task.uid;
    this.taskName = task.name;
    this.position = m === null ? null : Number(m[1]);
    this.path = m === null ? first.path : m[2]!;
    this.issues = issues;
  }
}

/** A task's result does not match its `output` schema; dependents fail with it as their root cause. */
export class OutputValidationError extends TaskError {
  override name = "OutputValidationError";
  readonly issues: readonly SchemaIssue[];

  constructor(task: TaskLabel, issues: readonly SchemaIssue[]) {
    super(task, `: its result does not match its output schema: ${issueList(issues)}`);
    this.issues = issues;
  }
}

/**
 * An error about a task whose `cause` may be an ExecutableError: it carries
 * that error's fields too (`command`, `exitCode`, `signal`, `stdout`,
 * `stderr`), so a caller reads them without unwrapping.
 */
export class ProcessTaskError extends TaskError {
  override name = "ProcessTaskError";
  declare readonly command?: string | readonly string[];
  declare readonly exitCode?: number | null;
  declare readonly signal?: NodeJS.Signals | null;
  declare readonly stdout?: string;
  declare readonly stderr?: string;

  constructor(task: TaskLabel, problem: string, cause: unknown) {
    super(task, problem, cause === undefined ? undefined : { cause });
    if (cause instanceof ExecutableError) {
      const { command, exitCode, signal, stdout, stderr } = cause;
      Object.assign(this, { command, exitCode, signal, stdout, stderr });
    }
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
export class ExitCodeError extends ProcessTaskError {
  override name = "ExitCodeError";
  readonly label: string;
  readonly exitStatus: number;
  readonly exitMessage: string;
  /** Whether the exit code was declared `retry: true`. */
  readonly retryable: boolean;

  constructor(task: TaskLabel, code: { label: string; status: number; message: string; retry: boolean }, cause?: ExecutableError | ExitRequest) {
    super(task, `: exited with ${code.label} (${code.status})${code.message === "" ? "" : `: ${code.message}`}`, cause);
    this.label = code.label;
    this.exitStatus = code.status;
    this.exitMessage = code.message;
    this.retryable = code.retry;
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
export class TaskTimeoutError extends ProcessTaskError {
  override name = "TaskTimeoutError";
  readonly what: "attempt" | "deadline";
  /** The limit that was passed, in milliseconds. */
  readonly ms: number;
  readonly attempt: number;

  constructor(task: TaskLabel, fields: { what: "attempt" | "deadline"; ms: number; attempt: number; cause?: unknown }) {
    const what = fields.what === "attempt" ? `attempt ${fields.attempt} timed out after ${fields.ms} ms` : `passed its deadline of ${fields.ms} ms (at attempt ${fields.attempt})`;
    super(task, `: ${what}`, fields.cause);
    this.what = fields.what;
    this.ms = fields.ms;
    this.attempt = fields.attempt;
  }
}

