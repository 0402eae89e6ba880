/**
 * ThreadBackend options (zod): the one declaration of each, with its default;
 * `index.ts` derives `ThreadBackendOptions` from it. Loaded when the backend
 * attaches, never by `import "asyncflow"`.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";

const positiveInt = z.number().int().positive();

export const threadBackendOptionsSchema = z.strictObject({
  /** @default "threads" */
  name: z.string().min(1).optional(),
  /** @default os.availableParallelism() */
  maxThreads: positiveInt.default(() => availableParallelism()),
  /** Threads kept alive when idle. @default Piscina's default */
  minThreads: z.number().int().min(0).optional(),
  /** Milliseconds an idle thread above `minThreads` lives: a flow is a session, so warm threads stay warm while it works. @default 30000 */
  idleTimeout: z.number().int().min(0).default(30_000),
  /** Per-thread V8 limits; a thread that exceeds them fails only its task. */
  resourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: positiveInt.optional(),
      maxYoungGenerationSizeMb: positiveInt.optional(),
      codeRangeSizeMb: positiveInt.optional(),
      stackSizeMb: positiveInt.optional(),
    })
    .optional(),
  /** Executable tasks routed here run as child processes, at most this many at once. @default os.availableParallelism() */
  maxProcesses: positiveInt.default(() => availableParallelism()),
});
