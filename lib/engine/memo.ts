import { existsSync } from "node:fs";
import { CheckpointError } from "../contract/errors.js";
import type { Logger } from "../contract/log.js";
import type { TaskRun } from "../contract/run.js";
import { TaskState, type FinalState } from "../contract/states.js";
import type { Reused } from "./emit.js";
import type { TaskFuture } from "./future.js";
import { stableHash } from "./hash.js";
import type { CheckpointStore } from "./store.js";

/** What the memo works with: the session's parts. */
export interface MemoParts {
  readonly log: Logger;
  readonly lifecycle: { finish(f: TaskFuture, state: FinalState, value: unknown, reused?: Reused, ranUntil?: number): boolean };
  /** The session's clock. */
  now(): number;
  /** Dispatches `f` with resolved `args` again (through the memo); nothing once the engine is shutting down (it cancels `f`). */
  dispatchWith(f: TaskFuture, args: unknown[]): void;
}

// Each caller sharing a running call (`cache: true`), with the call it shares: inspect shows it waiting on that call.
// Weak: an entry goes with its caller, or when the call ends.
const shares = new WeakMap<TaskFuture, TaskFuture>();

/** The running call `f` shares (`cache: true`), if it waits on one. */
export function sharedCallOf(f: TaskFuture): TaskFuture | undefined {
  return shares.get(f);
}

interface Shared {
  /** The call running for everyone; null once its value is in. */
  leader: TaskFuture | null;
  value: unknown;
  followers: [TaskFuture, unknown[]][];
}

/**
 * Reuse of results, keyed by task identity plus the stable hash of the
 * inputs (never the call order): the session's `cache`, and the checkpoint
 * `store` of earlier runs. Consulted at dispatch, only for tasks whose
 * definition has a policy.
 */
export class Memo {
  readonly #parts: MemoParts;
  readonly store: CheckpointStore | null;
  /** Why definitions were not checkpointed, said once each (see memoPolicy): later ones are debug lines. */
  readonly warned = new Set<string>();
  /**
   * No task of the run has failed or been cancelled (whatever its kind or
   * policy: an anonymous task or a block failing stops the run short as
   * surely), and no signal stopped it: the run asked for every record it
   * uses, and compaction may drop the rest (see CheckpointStore.close).
   */
  wholeRun = true;
  readonly #cache = new Map<string, Shared>();
  /** Calls running under a key, until they end. */
  readonly #running = new Map<TaskFuture, string>();

  constructor(parts: MemoParts, store: CheckpointStore | null) {
    this.#parts = parts;
    this.store = store;
  }

  /** At dispatch: true when `f` was answered (or joined a running call) and must not be submitted. */
  intercept(f: TaskFuture, args: unknown[]): boolean {
    const p = f._def.memo!;
    const hash = stableHash(args);
    const log = this.#parts.log;
    if (hash === null) {
      if (log.debugOn) log.debug(f.uid, `${f.name}: its inputs cannot be hashed stably (a function, a class instance, a cycle): not cached nor checkpointed`, f._workflow ?? undefined);
      return false;
    }
    const key = `${p.identity}#${hash}`;
    if (p.checkpoint && this.store !== null) {
      const hit = this.store.get(key);
      if (hit !== undefined && (!p.stdioFile || (typeof hit.value === "string" && existsSync(hit.value)))) {
        if (log.debugOn) log.debug(f.uid, `${f.name}: resumed from the checkpoint`, f._workflow ?? undefined);
        this.#parts.lifecycle.finish(f, TaskState.DONE, hit.value, "resumed");
        return true;
      }
    }
    if (p.cache) {
      const shared = this.#cache.get(key);
      if (shared !== undefined) {
        if (shared.leader === null) {
          if (log.debugOn) log.debug(f.uid, `${f.name}: cached`, f._workflow ?? undefined);
          this.#parts.lifecycle.finish(f, TaskState.DONE, shared.value, "cached");
        } else {
          shared.followers.push([f, args]);
          shares.set(f, shared.leader);
        }
        return true;
      }
      this.#cache.set(key, { leader: f, value: undefined, followers: [] });
    }
    this.#running.set(f, key);
    return false;
  }

  /**
   * The backend reported `f` DONE: with a checkpoint the value is written
   * first and `f` settles once it is durable. False: settle it now.
   */
  completed(f: TaskFuture, run: TaskRun, value: unknown): boolean {
    const key = this.#running.get(f);
    const store = this.store;
    if (key === undefined || store === null || !f._def.memo!.checkpoint) return false;
    const written = store.put(key, value);
    if (written === null) {
      this.#parts.log.debug(f.uid, `${f.name}: its result would not come back the same from the checkpoint: not checkpointed`, f._workflow ?? undefined);
      return false;
    }
    const lifecycle = this.#parts.lifecycle;
    // It ran until now: the write's wait is not its run (nor its slot's), and its end event says so.
    const ranUntil = this.#parts.now();
    written.then(
      () => f._run === run && lifecycle.finish(f, TaskState.DONE, value, undefined, ranUntil),
      (e: unknown) => f._run === run && lifecycle.finish(f, TaskState.FAILED, new CheckpointError(f, store.path, e)),
    );
    return true;
  }

  /** `f` (of a definition with a policy) is final: callers sharing its execution get its outcome. */
  ended(f: TaskFuture): void {
    const key = this.#running.get(f);
    if (key === undefined) return;
    this.#running.delete(f);
    const shared = this.#cache.get(key);
    if (shared === undefined || shared.leader !== f) return;
    const followers = shared.followers;
    shared.followers = [];
    for (const [g] of followers) shares.delete(g);
    if (f._state === TaskState.DONE) {
      shared.leader = null;
      shared.value = f._value;
      for (const [g] of followers) this.#parts.lifecycle.finish(g, TaskState.DONE, f._value, "cached");
      return;
    }
    this.#cache.delete(key); // only successes are kept
    if (f._state === TaskState.FAILED) {
      for (const [g] of followers) this.#parts.lifecycle.finish(g, TaskState.FAILED, f._value, "cached");
    } else {
      // the leader's cancellation is not theirs: the first still pending runs it for the others
      for (const [g, args] of followers) if (g._state === TaskState.PENDING) this.#parts.dispatchWith(g, args);
    }
  }
}
