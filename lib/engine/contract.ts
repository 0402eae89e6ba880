/**
 * A task's contract as the engine applies it: resolved once per definition
 * from its validated options, then checked on the data path: arguments
 * (`inputs`), result (`output`), and failures mapped onto declared exit codes.
 */
import { ExecutableError, InvalidTaskError, type TaskLabel } from "../contract/errors.js";
import { ExitCodeError, ExitRequest, InputValidationError, OutputValidationError } from "../contract/contract-errors.js";
import { check, type Checked, type Schema } from "../contract/schema.js";
import { TaskKind } from "../contract/states.js";
import type { AnyTaskOptions } from "../contract/task.js";

export interface ExitCode {
  readonly label: string;
  readonly status: number;
  readonly message: string;
  readonly retry: boolean;
}

/** What the engine enforces for a task; null on a definition that declares none of it. */
export interface Contract {
  readonly inputs: Schema | undefined;
  readonly output: Schema | undefined;
  readonly exitCodes: ReadonlyMap<string, ExitCode> | null;
  readonly retries: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  readonly retryDelayMax: number;
  readonly retryOn: ((error: unknown) => boolean) | undefined;
  /** Enforced by the engine for function tasks; an executable's process is timed where it runs. */
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  /** Whether attempts need bookkeeping: retries, a timeout or a deadline. */
  readonly attempts: boolean;
}

/** The contract of a definition, from its options as the option schemas resolved them (defaults filled). */
export function contractOf(kind: TaskKind, o: AnyTaskOptions): Contract | null {
  const codes = o.exitCodes === undefined ? null : new Map(Object.entries(o.exitCodes).map(([label, c]) => [label, { label, status: c.status, message: c.message ?? "", retry: c.retry ?? false }]));
  const retries = o.retries ?? 0;
  const timeout = kind === TaskKind.EXECUTABLE ? undefined : o.timeout;
  const attempts = retries > 0 || timeout !== undefined || o.deadline !== undefined;
  if (o.inputs === undefined && o.output === undefined && codes === null && !attempts) return null;
  return {
    inputs: o.inputs,
    output: o.output,
    exitCodes: codes,
    retries,
    retryDelay: o.retryDelay ?? 1000,
    retryJitter: o.retryJitter ?? 0.2,
    retryDelayMax: o.retryDelayMax ?? 60_000,
    retryOn: o.retryOn,
    timeout,
    deadline: o.deadline,
    attempts,
  };
}

/** The arguments as `inputs` parses them, or the InputValidationError; a promise only for an asynchronous schema. */
export function checkInputs(task: { readonly uid?: string; readonly name: string }, schema: Schema, args: unknown[]): unknown[] | InputValidationError | Promise<unknown[] | InputValidationError> {
  const r = check(schema, args);
  return r instanceof Promise ? r.then((c) => inputsOf(task, c)) : inputsOf(task, r);
}

function inputsOf(task: { readonly uid?: string; readonly name: string }, r: Checked): unknown[] | InputValidationError {
  if (!r.ok) return new InputValidationError(task, r.issues);
  if (!Array.isArray(r.value)) return new InputValidationError(task, [{ path: "", message: `the inputs schema gave ${typeof r.value}, not an argument array (use z.tuple([...]))` }]);
  return r.value as unknown[];
}

// Futures whose arguments an asynchronous `inputs` schema is checking, with when it began (inspect's VALIDATING).
// Weak: an entry goes when its check ends, or with its future. Synchronous schemas never enter it.
const validating = new WeakMap<object, number>();

/** `check`, with `f` shown as VALIDATING (by inspect and explain) until it settles. */
export function whileValidating<T>(f: object, check: Promise<T>): Promise<T> {
  validating.set(f, performance.now());
  return check.finally(() => validating.delete(f));
}

/** When an asynchronous check of `f`'s arguments began; undefined when none runs. */
export function validatingSince(f: object): number | undefined {
  return validating.get(f);
}

/** The result as `output` parses it, or the OutputValidationError; a promise only for an asynchronous schema. */
export function checkOutput(task: TaskLabel, schema: Schema, value: unknown): Checked | OutputValidationError | Promise<Checked | OutputValidationError> {
  const r = check(schema, value);
  const of = (c: Checked): Checked | OutputValidationError => (c.ok ? c : new OutputValidationError(task, c.issues));
  return r instanceof Promise ? r.then(of) : of(r);
}

/**
 * An attempt's failure as the task's: `exit(label)` becomes its ExitCodeError
 * (an undeclared label, an InvalidTaskError listing the declared ones), and an
 * executable's exit status that is declared becomes its ExitCodeError too.
 */
export function exitFailure(task: TaskLabel, codes: ReadonlyMap<string, ExitCode> | null, error: unknown, block = false): unknown {
  if (error instanceof ExitRequest || (error instanceof Error && error.name === "ExitRequest")) {
    const wanted = (error as ExitRequest).label;
    const code = codes?.get(wanted);
    if (code !== undefined) return new ExitCodeError(task, code, error as ExitRequest);
    const declared = block
      ? "a block declares none (exit codes are for tasks: throw an error, or exit() from a task it runs)"
      : codes === null || codes.size === 0
        ? "it declares none (add `exitCodes` to its options)"
        : `it declares ${[...codes.keys()].join(", ")}`;
    return new InvalidTaskError(task.name, `${task.uid} called exit(${JSON.stringify(wanted)}), an exit code it does not declare: ${declared}`, { cause: error });
  }
  if (codes !== null && error instanceof ExecutableError && error.exitCode !== null) {
    for (const code of codes.values()) if (code.status === error.exitCode) return new ExitCodeError(task, code, error);
  }
  return error;
}
