/**
 * The engine's option schemas (zod): the engine's own and each task kind's.
 * Backends keep theirs next to their code.
 *
 * zod takes ~40 ms to import, so this module is loaded by
 * `WorkflowEngine.create()`, never by `import "asyncflow"`.
 */
import { z } from "zod";
import { isExecutionBackend, type ExecutionBackend } from "../contract/backend.js";

const backends = z.custom<ExecutionBackend | ExecutionBackend[]>(
  (x) => isExecutionBackend(x) || (Array.isArray(x) && x.length > 0 && x.every(isExecutionBackend)),
  { message: "expected an execution backend (an object with name, attach, submit, cancel and shutdown) or a non-empty array of them" },
);

export const engineOptionsSchema = z.strictObject({
  backend: backends.optional(),
  dryRun: z.boolean().default(false),
  uid: z.string().min(1).optional(),
  workDir: z.string().min(1).optional(),
  handleSignals: z.boolean().default(true),
  history: z.number().int().min(0).default(10_000),
});

const name = z.string().min(1).optional();
const base = { name, backend: z.string().min(1).optional() };

export const functionOptionsSchema = z.strictObject({
  ...base,
  /** A module that exports the function under `name ?? fn.name`: worker backends import it there. */
  module: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  transfer: z.boolean().optional(),
});

export const executableOptionsSchema = z.strictObject({
  ...base,
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  timeout: z.number().int().positive().optional(),
  captureStdio: z.boolean().optional(),
});

export const blockOptionsSchema = z.strictObject(base);
