/**
 * Validating with any schema library: the Standard Schema interface
 * (`~standard.validate`: zod 3.24+ and 4, valibot, arktype) or, failing that,
 * zod-style `safeParse`. No schema library is imported here: the application
 * brings its own copy.
 */
import type { SchemaIssue } from "./contract-errors.js";

/** The part of the Standard Schema v1 interface asyncflow uses. */
export interface StandardSchema<I = unknown, O = I> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<O> | Promise<StandardResult<O>>;
    readonly types?: { readonly input: I; readonly output: O } | undefined;
  };
}

type StandardResult<O> =
  | { readonly value: O; readonly issues?: undefined }
  | { readonly issues: readonly { readonly message: string; readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined }[] };

/** A schema with zod's `safeParse` (zod 3 before 3.24 has no Standard Schema). */
export interface SafeParseSchema {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: readonly { message: string; path: readonly PropertyKey[] }[] } };
}

/** What `inputs` and `output` take. */
export type Schema = StandardSchema | SafeParseSchema;

type TypesOf<S> = S extends { readonly "~standard": { readonly types?: infer T } } ? NonNullable<T> : never;
/** The type a schema accepts (`unknown` where the schema does not say). */
export type SchemaInput<S> = [TypesOf<S>] extends [never] ? unknown : TypesOf<S> extends { readonly input: infer I } ? I : unknown;
/** The type a schema gives back (`unknown` where the schema does not say). */
export type SchemaOutput<S> = [TypesOf<S>] extends [never] ? unknown : TypesOf<S> extends { readonly output: infer O } ? O : unknown;

export function isSchema(x: unknown): x is Schema {
  if ((typeof x !== "object" && typeof x !== "function") || x === null) return false;
  const std = (x as { "~standard"?: { validate?: unknown } })["~standard"];
  return (typeof std === "object" && std !== null && typeof std.validate === "function") || typeof (x as { safeParse?: unknown }).safeParse === "function";
}

/** A validation's outcome: the parsed value (defaults filled, coercions applied), or what is wrong. */
export type Checked = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: SchemaIssue[] };

/** Validates `value`; a promise only when the schema validates asynchronously. */
export function check(schema: Schema, value: unknown): Checked | Promise<Checked> {
  if ("~standard" in schema) {
    const r = schema["~standard"].validate(value);
    return r instanceof Promise ? r.then(fromStandard) : fromStandard(r);
  }
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: r.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })) };
}

function fromStandard(r: StandardResult<unknown>): Checked {
  if (r.issues === undefined) return { ok: true, value: r.value };
  return { ok: false, issues: r.issues.map((i) => ({ path: pathOf((i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))), message: i.message })) };
}

/** `[0].items[2].name` for the path `[0, "items", 2, "name"]`. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}
