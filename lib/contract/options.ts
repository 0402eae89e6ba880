/**
 * Turning a failed zod parse into an error that names the option, what was
 * expected and what was received. Shared by the engine and every backend; it
 * takes schemas as values, so zod is loaded by whoever owns the schema.
 */
import type { z } from "zod";
import { InvalidOptionsError } from "./errors.js";

/**
 * Parses `input` with `schema`; on failure throws `makeError(message)` where
 * the message reads like ``option `history`: expected an integer >= 0, got `-1` (number)``.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  makeError: (message: string) => Error,
): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `unknown option${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")}`;
    const path = issue.path.map(String).join(".");
    const got = at(input, issue.path);
    const where = path === "" ? "options" : `option \`${path}\``;
    return `${where}: ${issue.message}, got ${show(got)}`;
  });
  throw makeError(lines.join("; "));
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let x = input;
  for (const key of path) x = x !== null && typeof x === "object" ? (x as Record<PropertyKey, unknown>)[key] : undefined;
  return x;
}

function show(x: unknown): string {
  if (typeof x === "function") return `a function`;
  if (typeof x === "object" && x !== null) return `${x.constructor?.name ?? "object"}`;
  return `\`${String(x)}\` (${typeof x})`;
}

/**
 * Validates options given to a backend (or a worker) against the schema
 * `load` brings in (lazily, so zod loads only now). Errors read `<label>: option ...`.
 */
export async function parseBackendOptions<S extends z.ZodType>(label: string, load: () => Promise<S>, given: unknown): Promise<z.output<S>> {
  return parseOptions(await load(), given, (m) => new InvalidOptionsError(`${label}: ${m}`));
}
