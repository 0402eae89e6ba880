/**
 * What the clean child process can run: the floors (plain promises) and the
 * peers, on the callback path and on the user's path. Nothing here imports
 * asyncflow (runners.ts imports only its types), so a process that loads
 * this file never entered AsyncLocalStorage.
 */
import { gc, usPer } from "../harness.js";
import { runAsyncAuto, runPGraph, runPQueue, runPromises } from "../runners.js";
import { chain, fanOutIn, independent, layered, type Shape } from "../shapes.js";
import * as user from "../user.js";

/** A shape by its constructor's name and arguments, so that it can cross to the child. */
export type ShapeSpec =
  | { readonly kind: "independent" | "chain" | "fanOutIn"; readonly size: number }
  | { readonly kind: "layered"; readonly layers: number; readonly width: number };

export function buildShape(spec: ShapeSpec): Shape {
  switch (spec.kind) {
    case "independent":
      return independent(spec.size);
    case "chain":
      return chain(spec.size);
    case "fanOutIn":
      return fanOutIn(spec.size);
    case "layered":
      return layered(spec.layers, spec.width);
  }
}

/** A user-path shape: the drivers of bench/user.ts. */
export type UserShape = "independent" | "chain" | "fan-in spread" | "fan-in array" | "layered";

/** Units of work in one run of a user-path shape (tasks, hops, children, nodes). */
export function userUnits(shape: UserShape, size: number): number {
  return shape === "layered" ? size * size : size;
}

/** Runs a user-path shape with the given task maker; `size` is the side of the square for "layered". */
export function runUser(make: user.MakeTask, shape: UserShape, size: number): Promise<void> {
  switch (shape) {
    case "independent":
      return user.independent(make, size);
    case "chain":
      return user.chain(make, size);
    case "fan-in spread":
      return user.fanIn(make, size, true);
    case "fan-in array":
      return user.fanIn(make, size, false);
    case "layered":
      return user.dag(make, layered(size, size));
  }
}

export type Workload =
  | { readonly run: "callback"; readonly who: "promises" | "p-graph" | "async.auto" | "p-queue"; readonly shape: ShapeSpec }
  | { readonly run: "user"; readonly who: "promises" | "p-graph" | "async.auto" | "p-queue"; readonly shape: UserShape; readonly size: number }
  | { readonly run: "pending"; readonly size: number };

const callbackRunners = { promises: runPromises, "p-graph": runPGraph, "async.auto": runAsyncAuto, "p-queue": (s: Shape) => runPQueue(s.size) };

/** One measured run: us per unit, or bytes per task for "pending". */
export async function runWorkload(w: Workload): Promise<number> {
  if (w.run === "callback") {
    const shape = buildShape(w.shape);
    return usPer(shape.size, () => callbackRunners[w.who](shape));
  }
  if (w.run === "pending") return user.pendingBytes(user.plainTask, w.size, gc);
  const units = userUnits(w.shape, w.size);
  if (w.who === "promises") return usPer(units, () => runUser(user.plainTask, w.shape, w.size));
  const shape = w.shape === "layered" ? layered(w.size, w.size) : w.shape === "chain" ? chain(w.size) : independent(w.size);
  if (w.who === "p-queue") return usPer(units, () => user.pQueueIndependent(w.size));
  if (w.who === "p-graph") return usPer(units, () => user.pGraphDag(shape));
  return usPer(units, () => user.asyncAutoDag(shape));
}
