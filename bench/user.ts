/**
 * The user's path, written the way the README teaches: `async` bodies that
 * await something trivial, futures passed as arguments, `await Promise.all`
 * or `await root`. Each shape is one driver over a task maker, so the very
 * same calling code runs on asyncflow and, as the floor, on plain async
 * functions ({@link plainTask}). This file never imports asyncflow: the
 * clean child process (bench/clean.ts) loads it.
 */
import asyncLib from "async";
import { PGraph } from "p-graph";
import PQueue from "p-queue";
import type { Shape } from "./shapes.js";

export type Body = (...inputs: unknown[]) => Promise<number>;
/** What a task wrapper looks like from the calling code: it takes values or awaitables, returns an awaitable. */
export type Wrapper = (...args: unknown[]) => PromiseLike<number>;
export type MakeTask = (body: Body) => Wrapper;

/** The body every user-path task runs. */
export const body: Body = async () => {
  // eslint-disable-next-line @typescript-eslint/await-thenable -- the cheapest await there is: what is measured is everything around it
  await null;
  return 0;
};

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";

function holdsThenable(args: readonly unknown[]): boolean {
  for (const a of args) if (isThenable(a) || (Array.isArray(a) && a.some(isThenable))) return true;
  return false;
}

/**
 * The floor: what a user writes without asyncflow to get the same calling
 * code, an async function that awaits the awaitables among its arguments
 * (top level, or one array deep) and skips the wait when there are none.
 */
export const plainTask: MakeTask = (fn) => async (...args) => {
  if (!holdsThenable(args)) return fn(...args);
  const values = await Promise.all(args.map((a) => (Array.isArray(a) ? Promise.all(a) : a)));
  return fn(...values);
};

export async function independent(make: MakeTask, n: number): Promise<void> {
  const work = make(body);
  const all = new Array<PromiseLike<number>>(n);
  for (let i = 0; i < n; i++) all[i] = work(i);
  await Promise.all(all);
}

export async function chain(make: MakeTask, n: number): Promise<void> {
  const work = make(body);
  let last = work(0);
  for (let i = 1; i < n; i++) last = work(last);
  await last;
}

/** One root, `n` children of it, one sink over all of them: spread into the call (`sink(...kids)`) or as one array. */
export async function fanIn(make: MakeTask, n: number, spread: boolean): Promise<void> {
  const work = make(body);
  const sink = spread ? make(async (...xs) => xs.length) : make(async (xs) => (xs as unknown[]).length);
  const root = work(0);
  const kids = new Array<PromiseLike<number>>(n);
  for (let i = 0; i < n; i++) kids[i] = work(root);
  const total = await (spread ? sink(...kids) : sink(kids));
  if (total !== n) throw new Error(`fan-in saw ${total} of ${n} inputs`);
}

/** A seeded shape, each node called with its parents' futures as separate arguments; awaits every sink. */
export async function dag(make: MakeTask, shape: Shape): Promise<void> {
  const work = make(body);
  const futures = new Array<PromiseLike<number>>(shape.size);
  const used = new Uint8Array(shape.size);
  for (let i = 0; i < shape.size; i++) {
    const ps = shape.parents[i]!;
    for (const p of ps) used[p] = 1;
    futures[i] = ps.length === 0 ? work(i) : ps.length === 1 ? work(futures[ps[0]!]) : work(...ps.map((p) => futures[p]));
  }
  const sinks: PromiseLike<number>[] = [];
  for (let i = 0; i < shape.size; i++) if (used[i] === 0) sinks.push(futures[i]!);
  await Promise.all(sinks);
}

/**
 * Bytes per awaited task while `n` of them are pending: each waits on one
 * root that waits on a gate, and the caller awaits them all
 * (`Promise.all`). Measured after a full collection, so it counts what is
 * held, not transient garbage.
 */
export async function pendingBytes(make: MakeTask, n: number, gc: () => void): Promise<number> {
  let open!: () => void;
  const gate = new Promise<void>((res) => (open = res));
  const root = make(async () => {
    await gate;
    return 0;
  })();
  const work = make(body);
  await new Promise((r) => setImmediate(r)); // the root is running
  gc();
  const base = process.memoryUsage().heapUsed;
  let futures: PromiseLike<number>[] | null = new Array<PromiseLike<number>>(n);
  for (let i = 0; i < n; i++) futures[i] = work(root);
  const all = Promise.all(futures);
  await new Promise((r) => setImmediate(r)); // every `then` taken
  gc();
  const bytes = (process.memoryUsage().heapUsed - base) / n;
  open();
  await all;
  futures = null;
  return bytes;
}

/** The peers on the same shapes, with the same async body. */
export async function pGraphDag(shape: Shape): Promise<void> {
  const nodes = new Map<string, { run: () => Promise<number> }>();
  const deps: [string, string][] = [];
  for (let i = 0; i < shape.size; i++) {
    nodes.set(String(i), { run: body });
    for (const p of shape.parents[i]!) deps.push([String(p), String(i)]);
  }
  await new PGraph(nodes, deps).run();
}

export async function pQueueIndependent(n: number): Promise<void> {
  const q = new PQueue();
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = q.add(body);
  await Promise.all(all);
}

export async function asyncAutoDag(shape: Shape): Promise<void> {
  const tasks: Record<string, unknown> = {};
  for (let i = 0; i < shape.size; i++) {
    const parents = shape.parents[i]!.map(String);
    // async.auto runs an async function as a task and awaits it
    const fn = async (): Promise<number> => body();
    tasks[String(i)] = parents.length === 0 ? fn : [...parents, fn];
  }
  await asyncLib.auto(tasks as never, Infinity);
}
