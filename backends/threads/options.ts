/**
 * ThreadBackend options (zod): the one declaration of each, with its default;
 * `index.ts` derives `ThreadBackendOptions` from it. Loaded when the backend
 * attaches, never by `import "asyncflow"`.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";

const positiveInt = z.number().int().positive();
const MAX_TIMER_MS = 2 ** 31 - 1;

export const threadBackendOptionsSchema = z.strictObject({
  /** @default "threads" */
  name: z.string().min(1).optional(),
  /** @default os.availableParallelism() */
  maxThreads: positiveInt.default(() => availableParallelism()),
  /** Threads kept alive when idle. @default Piscina's default */
  minThreads: z.number().int().min(0).optional(),
  /** Milliseconds an idle thread above `minThreads` lives: a flow is a session, so warm threads stay warm while it works. @default 30000 */
  idleTimeout: z.number().int().min(0).max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node keeps: a longer one fires at once)`).default(30_000),
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
}).superRefine((o, ctx) => {
  // Piscina refuses it only when the pool starts, on the first thread task, and every task then fails with its RangeError.
  if (o.minThreads !== undefined && o.minThreads > o.maxThreads) {
    ctx.addIssue({ code: "custom", path: ["minThreads"], message: `${o.minThreads} is more than maxThreads (${o.maxThreads}; its default is this machine's cores): at most maxThreads threads run` });
  }
});
