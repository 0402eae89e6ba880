/**
 * A body's abort signal on a worker (a thread or a queue worker): its
 * AbortController is made only when the body reads the signal or the run is
 * aborted, as most bodies never read it. A class, not an object literal with
 * a getter (see RemoteContext in execute.ts).
 */
export class LazySignal {
  #controller: AbortController | null = null;
  get signal(): AbortSignal {
    return this.#made().signal;
  }
  abort(reason: unknown): void {
    this.#made().abort(reason);
  }
  #made(): AbortController {
    return (this.#controller ??= new AbortController());
  }
}
