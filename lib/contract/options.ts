/**
 * Turning a failed zod parse into an error that names the option, what was
 * expected and what was received. Shared by the engine and every backend; it
 * takes schemas as values, so zod is loaded by whoever owns the schema.
 */
import type { z } from "zod";
import { InvalidOptionsError } from "./errors.js";
import { didYouMean } from "./suggest.js";

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
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, issue.path);
      const prefix = path === "" ? "" : `${path}.`;
      const named = issue.keys.map((k) => `\`${prefix}${k}\`${didYouMean(k, known, (n) => `\`${prefix}${n}\``)}`);
      return `unknown option${issue.keys.length > 1 ? "s" : ""} ${named.join(", ")}`;
    }
    const got = at(input, issue.path);
    const where = path === "" ? "options" : `option \`${path}\``;
    return `${where}: ${issue.message}, got ${show(got)}`;
  });
  throw makeError(lines.join("; "));
}

/** What zod's internals hold of a schema, as far as finding an object's keys needs. */
interface SchemaNode {
  readonly _zod?: {
    readonly def: { readonly type: string; readonly shape?: Record<string, SchemaNode>; readonly innerType?: SchemaNode; readonly options?: SchemaNode[]; readonly valueType?: SchemaNode };
  };
}

/** The keys the object schema at `path` inside `node` knows (through optional, default and nullable wrappers, records and unions); none if it is not found. */
function keysAt(node: SchemaNode | undefined, path: readonly PropertyKey[]): string[] {
  const def = node?._zod?.def;
  if (def === undefined) return [];
  if (def.type === "object" && def.shape !== undefined) return path.length === 0 ? Object.keys(def.shape) : keysAt(def.shape[String(path[0])], path.slice(1));
  if (def.type === "record") return path.length === 0 ? [] : keysAt(def.valueType, path.slice(1));
  if (def.options !== undefined) return def.options.flatMap((option) => keysAt(option, path));
  return keysAt(def.innerType, path);
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
