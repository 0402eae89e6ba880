/**
 * NoopBackend options (zod): their one declaration; `index.ts` derives
 * `NoopBackendOptions` from it. Loaded when the backend attaches, never by
 * `import "asyncflow"`.
 */
import { z } from "zod";

export const noopBackendOptionsSchema = z.strictObject({
  /** @default "noop" */
  name: z.string().min(1).optional(),
});
