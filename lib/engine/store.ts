/**
 * Where checkpointed results live: the engine asks only this of a store, so a
 * store other than the file (a database, an object store) fits the same slot.
 * Keys are a task's identity plus the stable hash of its inputs.
 */
export interface CheckpointStore {
  /** Names the store in messages (the file's path). */
  readonly path: string;
  /** A result recorded by an earlier run (`{ value }`), or undefined. O(1). */
  get(key: string): { value: unknown } | undefined;
  /**
   * Records `value` under `key`; the promise resolves once it is durable.
   * Puts made in the same burst share one write. Returns null, recording
   * nothing, for a value that would not come back the same from the store;
   * a rejected promise for a record it cannot write (one too long for a string).
   */
  put(key: string, value: unknown): Promise<void> | null;
  /**
   * Waits for every put, compacts if due and `compact` (the run got as far as
   * it would: records it did not ask for are nobody's), and lets another
   * program open it. Idempotent.
   */
  close(compact: boolean): Promise<void>;
}
