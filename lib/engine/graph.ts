import { Graph } from "@dagrejs/graphlib";
import { forEachFuture, hasObject } from "./args.js";
import { InvalidTaskError } from "../contract/errors.js";
import { Lenient, depKeys, depUid, looked, type TaskFuture } from "./future.js";
import type { TaskRecord } from "./history.js";
import { TaskState, isFinal, type TaskKind } from "../contract/states.js";
import { pushPruned } from "./pruned.js";

/**
 * The dependency graph lives on the futures themselves: each keeps a counter
 * of dependencies not yet DONE (`_waiting`) and the list of tasks waiting on
 * it (`_dependents`). Registering and releasing are O(1) per edge.
 */

/**
 * Records the edges from every future in `args` to `f`. Returns a dependency
 * that has already failed or been cancelled (so `f` can never run), or null.
 * An edge under a per-edge policy waits like any other but never ends `f`.
 * When it throws, it has made no edge.
 * @throws InvalidTaskError for a future that belongs to another engine;
 * ArgumentDepthError for arguments nested too deep (cyclic).
 */
export function link(f: TaskFuture, args: readonly unknown[]): TaskFuture | null {
  if (!hasObject(args)) return null;
  try {
    return linkAll(f, args);
  } catch (error) {
    unlink(f, args);
    throw error;
  }
}

function linkAll(f: TaskFuture, args: readonly unknown[]): TaskFuture | null {
  let ended: TaskFuture | null = null;
  forEachFuture(args, (d, lenient) => {
    if (d._def.session !== f._def.session) throw new InvalidTaskError(f.name, `argument ${d.uid} (${d.name}) is a future of another engine`);
    // `[x]` rather than `[]` then push: V8 gives a pushed-to empty array room
    // for 17 elements, ~150 bytes per task where most have one edge.
    const deps = f._deps;
    if (deps === null) f._deps = d._key;
    else if (typeof deps === "number") f._deps = [deps, d._key];
    else deps.push(d._key);
    const state = d._state;
    if (state === TaskState.PENDING || state === TaskState.RUNNING) {
      f._waiting++;
      const entry = lenient ? new Lenient(f) : f;
      // Dependents that ended first (cancelled, failed elsewhere) are dropped as the list grows, not held until `d` ends.
      d._dependents = d._dependents === null ? [entry] : pushPruned(d._dependents, entry, dependentEnded);
    } else if (state !== TaskState.DONE) {
      // A failure handed to a new dependent has been looked at, whatever the edge: out of the shutdown summary.
      looked(d);
      if (!lenient && ended === null) ended = d;
    }
  });
  return ended;
}

const dependentEnded = (x: TaskFuture | Lenient): boolean => isFinal((x instanceof Lenient ? x.dependent : x)._state);

/**
 * Takes back the edges a failed `link` made: walking `args` again meets the
 * same futures in the same order up to where it failed, and `f`, pushed last,
 * is last in each of their dependents.
 */
function unlink(f: TaskFuture, args: readonly unknown[]): void {
  let made = f._waiting;
  try {
    forEachFuture(args, (d) => {
      const list = d._dependents;
      if (made === 0 || list === null) return;
      const last = list[list.length - 1];
      if (last !== f && !(last instanceof Lenient && last.dependent === f)) return;
      list.pop();
      made--;
      if (list.length === 0) d._dependents = null;
    });
  } catch {
    // the walk fails where link's did: every edge before that point is undone
  }
  f._waiting = 0;
  f._deps = null;
}

/** Node label in {@link exportGraph}'s graph. */
export interface NodeLabel {
  name: string;
  state: TaskState;
  kind: TaskKind;
  /** The task's `label` option, when given. */
  label?: string;
  /** The task's `description` option, when given. */
  description?: string;
}

function node(name: string, state: TaskState, kind: TaskKind, label: string | undefined, description: string | undefined): NodeLabel {
  const n: NodeLabel = { name, state, kind };
  if (label !== undefined) n.label = label;
  if (description !== undefined) n.description = description;
  return n;
}

/**
 * A graphlib `Graph` of the retained history and the live tasks: node = uid,
 * edge = dependency -> dependent. Edges from tasks no longer retained are left out.
 * O(tasks + edges).
 */
export function exportGraph(history: Iterable<TaskRecord>, live: Iterable<TaskFuture>): Graph<object, NodeLabel, undefined> {
  const g = new Graph<object, NodeLabel, undefined>({ directed: true });
  const edges: [string, string][] = [];
  for (const r of history) {
    g.setNode(r.uid, node(r.name, r.state, r.kind, r.label, r.description));
    for (const d of r.dependencies) edges.push([d, r.uid]);
  }
  for (const f of live) {
    const uid = f.uid;
    g.setNode(uid, node(f.name, f.state, f._def.kind, f._def.options.label, f._def.options.description));
    for (const key of depKeys(f._deps)) edges.push([depUid(key), uid]);
  }
  for (const [from, to] of edges) if (g.hasNode(from)) g.setEdge(from, to);
  return g;
}
