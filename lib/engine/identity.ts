import type { Logger } from "../contract/log.js";
import { TaskKind } from "../contract/states.js";
import type { AnyTaskOptions } from "../contract/task.js";
import { stableHash, textHash } from "./hash.js";

/** How a definition's results are reused: made at definition, null for tasks that reuse nothing. */
export interface MemoPolicy {
  /** The name plus `version`, else a hash of the function's source. */
  readonly identity: string;
  readonly cache: boolean;
  readonly checkpoint: boolean;
  /** An executable whose result is a captured-stdout path: reused only while that file exists. */
  readonly stdioFile: boolean;
}

/** What the policy reads of the session's memo: whether it checkpoints, and whether it has warned of an anonymous definition. */
export interface MemoSession {
  readonly store: unknown;
  anonymousWarned: boolean;
}

/**
 * The policy of a definition, or null. Blocks reuse nothing (their tasks do);
 * anonymous functions are not checkpointed unless given a `name` (an
 * identity of "anonymous" would mix them up across edits).
 */
export function memoPolicy(kind: TaskKind, fn: Function, o: AnyTaskOptions, name: string, memo: MemoSession, log: Logger): MemoPolicy | null {
  if (kind === TaskKind.BLOCK) return null;
  const cache = o.cache === true;
  let checkpoint = memo.store !== null && o.checkpoint !== false;
  if (checkpoint && o.name === undefined && (fn.name === "" || fn.name === "anonymous")) {
    checkpoint = false;
    // The user asked for checkpoints, so a task that will rerun after a crash is worth a warning: once, as it is per definition.
    const line = "an anonymous function is not checkpointed (a rerun after a crash runs it again): give it a `name`, or `checkpoint: false` to say so";
    if (memo.anonymousWarned) log.debug(name, line);
    else {
      memo.anonymousWarned = true;
      log.warn(name, line);
    }
  }
  if (!cache && !checkpoint) return null;
  const identity = `${name}@${o.version !== undefined ? `v${o.version}` : textHash(fn.toString())}${settings(o)}`;
  return { identity, cache, checkpoint, stdioFile: kind === TaskKind.EXECUTABLE && o.captureStdio === true };
}


/**
 * The options that change what a call of the same function on the same
 * inputs gives back: an executable's `cwd`, `env` and `captureStdio`, a
 * function's `module`. Empty when none is given (identities made before these
 * counted stay the same).
 */
function settings(o: AnyTaskOptions): string {
  const { cwd, env, captureStdio, module } = o as { cwd?: string; env?: Record<string, string>; captureStdio?: boolean; module?: string | URL };
  if (cwd === undefined && env === undefined && captureStdio === undefined && module === undefined) return "";
  return `+${stableHash({ cwd, env, captureStdio, module: module === undefined ? undefined : String(module) })!.slice(0, 16)}`;
}
