/**
 * What cannot cross to a worker (a thread of ThreadBackend, a queue worker's
 * process) is refused naming the task and the value, on both sides: the
 * arguments before they leave, the result before it comes back.
 */
import { findUncloneable } from "../../lib/contract/codec.js";
import { InvalidTaskError } from "../../lib/contract/errors.js";

/** Where a run crosses to, as messages say it: `"a worker thread"`, `"a queue worker"`. */
export type Crossing = string;

/** The error naming the first argument of `run` that cannot be sent to `to`, or null when all can. */
export function uncloneableArgument(run: { readonly uid: string; readonly name: string; readonly args: readonly unknown[] }, to: Crossing): InvalidTaskError | null {
  for (let i = 0; i < run.args.length; i++) {
    const bad = findUncloneable(run.args[i]);
    if (bad !== null) return new InvalidTaskError(run.name, `${run.uid}: argument args[${i}] cannot be sent to ${to}: it is or holds ${bad}`);
  }
  return null;
}

/** @throws InvalidTaskError naming the task, when its result `value` cannot be sent back from `from`. */
export function checkResult(task: { readonly uid: string; readonly name: string }, value: unknown, from: Crossing): void {
  const bad = findUncloneable(value);
  if (bad !== null) throw new InvalidTaskError(task.name, `${task.uid} returned ${bad}, which cannot be sent back from ${from}`);
}
