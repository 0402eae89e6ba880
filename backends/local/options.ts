/**
 * LocalBackend options (zod): the one declaration of each, with its default;
 * `index.ts` derives `LocalBackendOptions` from it. Loaded when the backend
 * attaches, never by `import "asyncflow"`.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";

export const localBackendOptionsSchema = z.strictObject({
  /** @default "local" */
  name: z.string().min(1).optional(),
  /** How many function tasks may run at once on the event loop. @default unbounded */
  concurrency: z.number().int().positive().optional(),
  /** How many executable tasks may run as processes at once. @default os.availableParallelism() */
  maxProcesses: z.number().int().positive().default(() => availableParallelism()),
});
