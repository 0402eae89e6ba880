/** The retry policy: which failures are retried, and how long to wait before the next attempt. */
import { describe } from "../contract/errors.js";
import type { Logger } from "../contract/log.js";
import type { Contract } from "./contract.js";
import type { TaskFuture } from "./future.js";

// Never retried, whatever `retryOn` says: retrying cannot change them. By name,
// so that an error from another copy of asyncflow (a worker's) counts too.
const FINAL = new Set(["NonRetryableError", "InputValidationError", "OutputValidationError", "TaskCancelledError", "InvalidTaskError", "DependencyFailureError"]);

/** Whether a failed attempt's `error` is worth another attempt. */
export function retryable(error: unknown, c: Contract, f: TaskFuture, log: Logger): boolean {
  if (error instanceof Error) {
    if (FINAL.has(error.name)) return false;
    if (error.name === "TaskTimeoutError" && (error as { what?: string }).what === "deadline") return false;
    if (error.name === "ExitCodeError" && (error as { retryable?: boolean }).retryable !== true) return false;
  }
  if (c.retryOn === undefined) return true;
  try {
    return c.retryOn(error) === true;
  } catch (thrown) {
    log.error(f.uid, `${f.name}: retryOn threw (${describe(thrown)}): not retrying`, f._workflow ?? undefined);
    return false;
  }
}

/**
 * Milliseconds before the attempt after `failed` (1 for the first): `retryDelay * 2^(failed-1)`
 * times a uniform factor in [1 - retryJitter, 1 + retryJitter], capped by `retryDelayMax`.
 */
export function retryDelayMs(c: Contract, failed: number): number {
  const factor = 1 + c.retryJitter * (2 * Math.random() - 1);
  return Math.min(c.retryDelayMax, c.retryDelay * 2 ** (failed - 1) * factor);
}
