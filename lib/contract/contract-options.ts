/**
 * The options that make a task a contract (zod): what it takes and gives back,
 * how it can fail, how often it is tried and for how long. Their one
 * declaration, with their docs; spread into the function and executable task
 * schemas, and (validation and labels only) into the block schema
 * (`task-options.ts`). Loaded with the other option schemas by
 * `WorkflowEngine.create()`, never at import.
 */
import { z } from "zod";
import { isSchema, type Schema } from "./schema.js";

const schema = z.custom<Schema>(isSchema, {
  message: "expected a schema: zod, or any Standard Schema (an object with `~standard.validate`) or one with `safeParse`",
});

const exitCode = z.strictObject({
  /** The exit status: a positive integer, unique in the map. For executables, the process exit status it matches. */
  status: z.number().int().positive(),
  /** What the exit code means, in the error's message. @default "" */
  message: z.string().default(""),
  /** Whether a failure with this code is retried: an expected failure is an answer, not an accident. @default false */
  retry: z.boolean().default(false),
});

const exitCodes = z.record(z.string().min(1), exitCode).superRefine((codes, ctx) => {
  const seen = new Map<number, string>();
  for (const [label, code] of Object.entries(codes)) {
    const other = seen.get(code.status);
    if (other !== undefined) ctx.addIssue({ code: "custom", path: [label, "status"], message: `status ${code.status} is also ${other}'s: statuses must be unique` });
    seen.set(code.status, label);
  }
});

/** Validation and labels: every kind of task takes them. */
export const validationOptions = {
  /**
   * A schema for the argument array (normally `z.tuple([...])`): validated
   * after dependencies resolve, before the body runs (at the call, when no
   * argument is a future); its output (defaults filled, coercions applied)
   * replaces the arguments.
   */
  inputs: schema.optional(),
  /** A schema for the result; a result that does not match fails the task with OutputValidationError; its output is the task's result. */
  output: schema.optional(),
  /** A short human name shown in `graph()`, logs and events. @default the task's name */
  label: z.string().min(1).optional(),
  /** What the task does, shown in `graph()`. */
  description: z.string().optional(),
};

/** Failure, retries and time limits: function and executable tasks. */
export const attemptOptions = {
  /** Expected failures, by label: `taskContext().exit(label)`, or an executable's exit status. */
  exitCodes: exitCodes.optional(),
  /** How many times a failed attempt is tried again. @default 0 */
  retries: z.number().int().min(0).default(0),
  /** Milliseconds before the first retry; doubles at each further one. @default 1000 */
  retryDelay: z.number().min(0).finite().default(1000),
  /** Each delay is multiplied by a uniform factor in [1 - retryJitter, 1 + retryJitter]. @default 0.2 */
  retryJitter: z.number().min(0).max(1).default(0.2),
  /** The longest delay between attempts, in milliseconds. @default 60000 */
  retryDelayMax: z.number().min(0).finite().default(60_000),
  /** Called with an attempt's error: false means retrying cannot fix it. @default () => true */
  retryOn: z.custom<(error: unknown) => boolean>((x) => typeof x === "function", { message: "expected a function (error) => boolean" }).optional(),
  /**
   * Milliseconds an attempt may run, from its start (time queued excluded); a
   * longer one fails with TaskTimeoutError and is retried like any failure.
   * An executable's process group is killed.
   */
  timeout: z.number().positive().finite().optional(),
  /** Milliseconds for all attempts together, from the first one's start: TaskTimeoutError, not retried. */
  deadline: z.number().positive().finite().optional(),
};

/** The schemas the option types are derived from (`task.ts`). */
export const validationOptionsSchema = z.object(validationOptions);
export const attemptOptionsSchema = z.object(attemptOptions);
