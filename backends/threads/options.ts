/**
 * ThreadBackend options (zod). Loaded when the backend attaches, never by `import "asyncflow"`.
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

export const threadBackendOptionsSchema = z.strictObject({
  name: z.string().min(1).default("threads"),
  maxThreads: positiveInt.optional(),
  minThreads: z.number().int().min(0).optional(),
  idleTimeout: z.number().int().min(0).default(30_000),
  resourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: positiveInt.optional(),
      maxYoungGenerationSizeMb: positiveInt.optional(),
      codeRangeSizeMb: positiveInt.optional(),
      stackSizeMb: positiveInt.optional(),
    })
    .optional(),
  maxProcesses: positiveInt.optional(),
});
