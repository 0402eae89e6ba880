/** A session of a trace as the graph `flow.graph()` would have given: for `asyncflow graph`. */
import { Graph } from "@dagrejs/graphlib";
import type { GraphNodeLabel } from "./dot.js";
import type { SessionModel } from "./model.js";

/** Node = uid with `{ name, state, kind }`, edge = dependency -> dependent. O(tasks + edges). */
export function traceGraph(session: SessionModel): Graph<object, GraphNodeLabel, undefined> {
  const g = new Graph<object, GraphNodeLabel, undefined>({ directed: true });
  for (const t of session.tasks.values()) g.setNode(t.uid, { name: t.name, state: t.state, kind: t.kind });
  for (const t of session.tasks.values()) for (const d of t.dependsOn) if (g.hasNode(d)) g.setEdge(d, t.uid);
  return g;
}
