import { Edge } from "./edges.js";
import { TaskFuture } from "./future.js";

/**
 * Futures are found wherever they stand in a task's arguments: at the top
 * level, or inside plain arrays and plain objects at any depth. Anything else
 * (class instances, Maps, Buffers) is opaque and passes through untouched.
 * An {@link Edge} (`settled(f)`, `optional(f, x)`) stands for its future.
 */

/** Deeper than this, the rest of a structure is walked with a stack and a seen set (it may be cyclic): see scanDeep. */
export const MAX_DEPTH = 1000;

export class ArgumentDepthError extends Error {}

function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as object | null;
  return proto === Object.prototype || proto === null;
}

/** Sees a future of the arguments; `lenient` when it stands under a per-edge policy. */
export type VisitFuture = (f: TaskFuture, lenient: boolean) => void;

/** Refused: a future `substitute` could not put in place, its walk being recursive. */
const UNREACHABLE_FUTURE = `a future nested deeper than ${MAX_DEPTH} levels (or inside a cyclic structure) cannot be resolved: pass it nearer the top`;

// The containers from the argument being scanned down to where the scan is: meeting one again is a cycle, which the
// scan does not follow (it would never end; walked from every branch, `a.x = a; a.y = a` would take 2^depth steps).
// Reused (scans do not nest), so that a call allocates nothing for it.
const onPath = new Set<object>();
let cyclic = false;
let futuresMet = 0;

/**
 * Calls `visit` once per occurrence of a future in `args`. O(size of the plain
 * structure), cycles included (not followed). A future in an argument that has
 * a cycle is refused: substituting it would not end.
 */
export function forEachFuture(args: readonly unknown[], visit: VisitFuture): void {
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    if (typeof x !== "object" || x === null) continue;
    cyclic = false;
    futuresMet = 0;
    try {
      scan(x, visit, 0);
    } finally {
      onPath.clear();
    }
    if (cyclic && futuresMet > 0) throw new ArgumentDepthError(UNREACHABLE_FUTURE);
  }
}

/** Whether any argument is an object (and so might hold a future). */
export function hasObject(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    if (typeof x === "object" && x !== null) return true;
  }
  return false;
}

function scan(x: object, visit: VisitFuture, depth: number): void {
  if (x instanceof TaskFuture) return (futuresMet++, visit(x, false));
  if (x instanceof Edge) return (futuresMet++, visit(x.future, true));
  if (depth > MAX_DEPTH) return scanDeep(x);
  const array = Array.isArray(x);
  if (!array && !isPlainObject(x)) return;
  if (onPath.has(x)) return void (cyclic = true);
  onPath.add(x);
  if (array) {
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      if (typeof v === "object" && v !== null) scan(v, visit, depth + 1);
    }
  } else {
    for (const key in x) {
      const v: unknown = (x as Record<string, unknown>)[key];
      if (typeof v === "object" && v !== null) scan(v, visit, depth + 1);
    }
  }
  onPath.delete(x);
}

/**
 * The part of an argument deeper than MAX_DEPTH: a long linked list, a tree
 * with back-references. Walked without recursion, each object once, so it
 * passes whatever its depth or cycles. A future there is refused: putting its
 * value in its place (substitute) would need the same care, for what no
 * program needs.
 */
function scanDeep(root: object): void {
  const seen = new Set<object>();
  const stack: object[] = [root];
  for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
    if (seen.has(x)) continue;
    seen.add(x);
    if (x instanceof TaskFuture || x instanceof Edge) throw new ArgumentDepthError(UNREACHABLE_FUTURE);
    const children: unknown[] = Array.isArray(x) ? x : isPlainObject(x) ? Object.values(x) : [];
    for (const v of children) if (typeof v === "object" && v !== null) stack.push(v);
  }
}

/**
 * Replaces every future in `args` by its result (an Edge by what its policy hands). `args` itself is the array
 * the task wrapper made for this call, so it is updated in place; nested
 * containers that hold a future are copied, everything else keeps its
 * identity, and the caller's structures are never mutated.
 */
export function substitute(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) args[i] = swap(args[i]);
  return args;
}

function swap(x: unknown): unknown {
  if (typeof x !== "object" || x === null) return x;
  if (x instanceof TaskFuture) return x._value;
  if (x instanceof Edge) return x._value();
  if (Array.isArray(x)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      const s = swap(v);
      if (s !== v && out === null) out = x.slice(0, i);
      if (out !== null) out.push(s);
    }
    return out ?? x;
  }
  if (!isPlainObject(x)) return x;
  let out: Record<string, unknown> | null = null;
  for (const key in x) {
    const v = (x as Record<string, unknown>)[key];
    const s = swap(v);
    if (s !== v && out === null) out = Object.assign(Object.create(Object.getPrototypeOf(x) as object | null) as object, x) as Record<string, unknown>;
    if (out !== null) out[key] = s;
  }
  return out ?? x;
}
