/**
 * The worker's first look at a job: the envelope, its signature when the
 * worker has a secret, then the payload against a schema, before anything of
 * the job is evaluated, imported or run. Each refusal names the job.
 */
import { Ajv, type SchemaObject } from "ajv";
import { z } from "zod";
import { fromWire, V8_WIRE } from "../../lib/contract/codec.js";
import { JobRefusedError } from "../../lib/contract/errors.js";
import { PROTOCOL, type Payload } from "./protocol.js";
import type { Signer } from "./sign.js";

const strings = z.record(z.string(), z.string());
const base = {
  uid: z.string().min(1).max(200),
  name: z.string().max(500),
  attempt: z.number().int().min(1),
  resent: z.number().int().min(0).optional(),
  trace: strings.optional(),
};

const payloadSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("function"),
    ...base,
    args: z.union([z.array(z.unknown()), z.strictObject({ [V8_WIRE]: z.string() })], "expected the arguments (an array, or their V8 serialization)"),
    module: z.strictObject({ href: z.string().min(1), export: z.string().min(1) }).optional(),
    source: z.strictObject({ expression: z.string().min(1), context: z.boolean() }).optional(),
  }),
  z.strictObject({
    kind: z.literal("command"),
    ...base,
    command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
    cwd: z.string().min(1).optional(),
    env: strings.optional(),
    timeout: z.number().int().positive().optional(),
    captureStdio: z.boolean().optional(),
  }),
]);

// The session names a directory on the worker (captured output): a plain name, never a path.
const envelopeSchema = z.object({ v: z.literal(PROTOCOL), s: z.string().regex(/^(?!\.\.?$)[^/\\\0]{1,200}$/, "expected a session uid (a name, not a path)"), p: z.string(), sig: z.string().optional() });

/**
 * The schemas above, also compiled by ajv into plain code for the common case: between a chain's hops a worker's
 * caches hold other work, and zod's two parses took ~27 us a job there against ~10 for ajv's (bench/FINDINGS.md).
 * A value ajv passes is one zod accepts: patterns are read without the u flag, as zod reads them, and each
 * maxLength is halved, since ajv counts code points and zod, a peer dependency, UTF-16 units up to some 4.x
 * (4.0.0 does) and code points since (4.6.7 does): n code points are at most 2n units, so the longest strings go
 * to zod. A value ajv
 * refuses goes to zod, which decides and says why (queue-schema.test.ts checks both).
 */
const ajv = new Ajv({ unicodeRegExp: false });

function compiled<T extends z.ZodType>(schema: T): (value: unknown) => value is z.output<T> {
  return ajv.compile<z.output<T>>(halveMaxLengths(z.toJSONSchema(schema, { target: "draft-7", io: "input" })) as SchemaObject);
}

function halveMaxLengths(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(halveMaxLengths);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === "maxLength" && typeof v === "number" ? Math.floor(v / 2) : halveMaxLengths(v)]));
}

/** The wire's schemas and their compiled checks (exported for tests, not part of the package's API). @internal */
export const wireChecks = {
  envelope: { schema: envelopeSchema, quick: compiled(envelopeSchema) },
  payload: { schema: payloadSchema, quick: compiled(payloadSchema) },
};

function parse<T extends z.ZodType>(check: { schema: T; quick: (value: unknown) => value is z.output<T> }, value: unknown): z.ZodSafeParseResult<z.output<T>> {
  return check.quick(value) ? { success: true, data: value } : check.schema.safeParse(value);
}

/** The job's payload, checked. @throws JobRefusedError "malformed job <id>: ..." or "job <id> refused: ...". */
export function readJob(id: string, data: unknown, signer: Signer | null): { session: string; payload: Payload; args: unknown[] } {
  const env = parse(wireChecks.envelope, data);
  if (!env.success) throw new JobRefusedError(`malformed job ${id}: not an asyncflow job (protocol ${PROTOCOL}): ${issues(env.error)}`);
  const { s, p, sig } = env.data;
  if (signer !== null && !signer.verify(sig, id, s, p)) {
    throw new JobRefusedError(`job ${id} refused: ${sig === undefined ? "unsigned" : "bad signature"}, and this worker has a secret (is the engine given the same one?)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(p);
  } catch (error) {
    throw new JobRefusedError(`malformed job ${id}: its payload is not JSON: ${(error as Error).message}`);
  }
  const payload = parse(wireChecks.payload, raw);
  if (!payload.success) throw new JobRefusedError(`malformed job ${id}: ${issues(payload.error)}`);
  return { session: s, payload: payload.data, args: payload.data.kind === "function" ? argumentsOf(id, payload.data.args) : [] };
}

// Read as data only (V8's deserializer makes values, it runs nothing of the job), before any trust check looks at the job.
function argumentsOf(id: string, wire: unknown): unknown[] {
  let args: unknown;
  try {
    args = fromWire(wire);
  } catch (error) {
    throw new JobRefusedError(`malformed job ${id}: args: cannot be deserialized: ${(error as Error).message}`);
  }
  if (!Array.isArray(args)) throw new JobRefusedError(`malformed job ${id}: args: expected an array, got ${args === null ? "null" : typeof args}`);
  return args;
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? "" : `${i.path.join(".")}: `}${i.message}`)
    .join("; ");
}
