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

/** What the policy reads of the session's memo: whether it checkpoints, and what it has warned of. */
export interface MemoSession {
  readonly store: unknown;
  /** The warnings said so far (each once per session, then a debug line). */
  readonly warned: Set<string>;
}

// What `toString` gives for a function whose source JavaScript cannot see: bound functions, built-ins.
const NATIVE = /\{\s*\[native code\]\s*\}$/;
/** Definitions of native-code functions, each an identity of its own (see memoPolicy). */
let opaqueDefinitions = 0;

/**
 * The policy of a definition, or null. Blocks reuse nothing (their tasks do).
 * The identity hashes the function's source, so that an edit is a new task:
 * anonymous functions are not checkpointed unless given a `name` (an
 * identity of "anonymous" would mix them up across edits), nor functions
 * whose source cannot be read (bound functions, built-ins: every edit reads
 * "[native code]") unless given a `version`; within a session such a
 * definition is cached under an identity of its own (two bindings of one
 * function have one name and one "source").
 */
export function memoPolicy(kind: TaskKind, fn: Function, o: AnyTaskOptions, name: string, memo: MemoSession, log: Logger): MemoPolicy | null {
  if (kind === TaskKind.BLOCK) return null;
  const cache = o.cache === true;
  let checkpoint = memo.store !== null && o.checkpoint !== false;
  const source = o.version === undefined ? fn.toString() : "";
  const opaque = NATIVE.test(source);
  if (checkpoint && o.name === undefined && (fn.name === "" || fn.name === "anonymous")) {
    checkpoint = false;
    unrecorded(memo, log, name, "an anonymous function is not checkpointed (a rerun after a crash runs it again): give it a `name`, or `checkpoint: false` to say so");
  } else if (checkpoint && opaque) {
    checkpoint = false;
    unrecorded(memo, log, name, "a function whose source cannot be read (a bound function, a built-in) is not checkpointed (an edit would not change its identity): give it a `version`, or `checkpoint: false` to say so");
  }
  if (!cache && !checkpoint) return null;
  const code = o.version !== undefined ? `v${o.version}` : opaque ? `native.${++opaqueDefinitions}` : textHash(source);
  return { identity: `${name}@${code}${settings(o)}`, cache, checkpoint, stdioFile: kind === TaskKind.EXECUTABLE && o.captureStdio === true };
}

// The user asked for checkpoints, so a task that will rerun after a crash is worth a warning: once, as it is per definition.
function unrecorded(memo: MemoSession, log: Logger, name: string, line: string): void {
  if (memo.warned.has(line)) log.debug(name, line);
  else {
    memo.warned.add(line);
    log.warn(name, line);
  }
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
