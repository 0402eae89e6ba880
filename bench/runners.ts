/** The same shape run by asyncflow and by the baselines: plain promises (the floor), p-graph, async.auto, p-queue. */
import asyncLib from "async";
import { PGraph } from "p-graph";
import PQueue from "p-queue";
import type { TaskFuture, WorkflowEngine } from "../lib/index.js";
import type { Shape } from "./shapes.js";

const body = (..._inputs: unknown[]): number => 0;

/** Sinks: nodes nobody depends on; a run is over when they all are. */
function sinks(shape: Shape): number[] {
  const used = new Uint8Array(shape.size);
  for (const ps of shape.parents) for (const p of ps) used[p] = 1;
  const out: number[] = [];
  for (let i = 0; i < shape.size; i++) if (used[i] === 0) out.push(i);
  return out;
}

/** asyncflow: one wrapper call per node, futures as arguments; one done-callback counts the sinks. */
export async function runAsyncflow(flow: WorkflowEngine, shape: Shape): Promise<void> {
  const task = flow.functionTask(body, { name: "node" });
  const futures = new Array<TaskFuture<number>>(shape.size);
  const ends = sinks(shape);
  let left = ends.length;
  let done!: () => void;
  let failed!: (e: unknown) => void;
  const finished = new Promise<void>((res, rej) => {
    done = res;
    failed = rej;
  });
  const onDone = (f: TaskFuture<number>): void => {
    if (f.state !== "DONE") failed(f.exception());
    else if (--left === 0) done();
  };
  for (let i = 0; i < shape.size; i++) {
    const ps = shape.parents[i]!;
    // several parents arrive as one array argument (a fan-in of 100,000 cannot be spread into a call)
    futures[i] = ps.length === 0 ? task() : ps.length === 1 ? task(futures[ps[0]!]) : task(ps.map((p) => futures[p]!));
  }
  for (const s of ends) futures[s]!.addDoneCallback(onDone);
  await finished;
}

/** The floor: the same graph as plain promises. */
export async function runPromises(shape: Shape): Promise<void> {
  const ps = new Array<Promise<number>>(shape.size);
  for (let i = 0; i < shape.size; i++) {
    const parents = shape.parents[i]!;
    ps[i] =
      parents.length === 0
        ? Promise.resolve().then(body)
        : parents.length === 1
          ? ps[parents[0]!]!.then(body)
          : Promise.all(parents.map((p) => ps[p]!)).then(body);
  }
  await Promise.all(sinks(shape).map((s) => ps[s]!));
}

export async function runPGraph(shape: Shape): Promise<void> {
  const nodes = new Map<string, { run: () => number }>();
  const deps: [string, string][] = [];
  for (let i = 0; i < shape.size; i++) {
    nodes.set(String(i), { run: body });
    for (const p of shape.parents[i]!) deps.push([String(p), String(i)]);
  }
  await new PGraph(nodes, deps).run();
}

export async function runAsyncAuto(shape: Shape): Promise<void> {
  const tasks: Record<string, unknown> = {};
  for (let i = 0; i < shape.size; i++) {
    const parents = shape.parents[i]!.map(String);
    // the callback is called from a microtask: synchronous callbacks overflow async.auto's stack on deep graphs
    const fn = (...a: unknown[]): void => queueMicrotask(() => (a[a.length - 1] as (e: null, v: number) => void)(null, body()));
    tasks[String(i)] = parents.length === 0 ? fn : [...parents, fn];
  }
  await asyncLib.auto(tasks as never, Infinity);
}

/** p-queue with no limit: independent tasks only. */
export async function runPQueue(n: number): Promise<void> {
  const q = new PQueue();
  for (let i = 0; i < n; i++) void q.add(body);
  await q.onIdle();
}

/** Tasks per second for `count` calls of `task(i)`, all in flight at once, counted done through callbacks. */
export async function tasksPerSecond<T>(task: (i: number) => TaskFuture<T>, count: number): Promise<number> {
  const t0 = performance.now();
  const futures = new Array<TaskFuture<T>>(count);
  for (let i = 0; i < count; i++) futures[i] = task(i);
  let left = count;
  await new Promise<void>((done) => {
    const cb = (): void => void (--left === 0 && done());
    for (const f of futures) f.addDoneCallback(cb);
  });
  return count / ((performance.now() - t0) / 1000);
}
