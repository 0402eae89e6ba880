/**
 * Floors for the growth case: what any design that hands back one object per
 * task pays at a million tasks, measured in the same run as asyncflow.
 */

/** As many fields as a TaskFuture has. */
export const FUTURE_FIELDS = 14;

/** A future-sized object. */
export class Held {
  constructor(
    readonly a: number,
    readonly b: unknown = null, readonly c: unknown = null, readonly d: unknown = null, readonly e: unknown = null,
    readonly f: unknown = null, readonly g: unknown = null, readonly h: unknown = null, readonly i: unknown = null,
    readonly j: unknown = null, readonly k: unknown = null, readonly l: unknown = null, readonly m: unknown = null,
    readonly n: unknown = null,
  ) {}
}

/** The smallest object a future could be: an id and a state. */
export class Tiny {
  constructor(
    readonly id: number,
    readonly state: string = "PENDING",
  ) {}
}

/** Allocates one object per task and holds them all, as a caller holds its futures. */
export function hold<T>(count: number, make: (i: number) => T): T[] {
  const held = new Array<T>(count);
  for (let i = 0; i < count; i++) held[i] = make(i);
  return held;
}

class MinimalFuture {
  state = 0;
  value: number | undefined = undefined;
  callback: (() => void) | null = null;
  constructor(
    readonly id: number,
    readonly fn: () => number,
  ) {}
}

/**
 * The least an engine can do per task, run the way the growth case runs
 * asyncflow: a 5-field future (a class, as a future needs its methods) per call, a ready list flushed in one
 * microtask, one done-callback per future, an array of held futures.
 */
export async function runMinimalEngine(count: number): Promise<void> {
  const ready: (MinimalFuture | undefined)[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    for (let i = 0; i < ready.length; i++) {
      const f = ready[i]!;
      ready[i] = undefined;
      f.value = f.fn();
      f.state = 1;
      const cb = f.callback;
      f.callback = null;
      if (cb !== null) cb();
    }
    ready.length = 0;
  };
  const fn = (): number => 0;
  const futures = new Array<MinimalFuture>(count);
  for (let i = 0; i < count; i++) {
    const f = new MinimalFuture(i, fn);
    ready.push(f);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
    futures[i] = f;
  }
  let left = count;
  await new Promise<void>((done) => {
    const onDone = (): void => {
      if (--left === 0) done();
    };
    for (const f of futures) f.callback = onDone;
  });
}
