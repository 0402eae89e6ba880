/**
 * LocalBackend options (zod). Loaded when the backend attaches, never by `import "asyncflow"`.
 */
import { z } from "zod";

export const localBackendOptionsSchema = z.strictObject({
  name: z.string().min(1).default("local"),
  concurrency: z.number().int().positive().optional(),
  maxProcesses: z.number().int().positive().optional(),
});
