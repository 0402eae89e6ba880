/**
 * The dependency graph as Graphviz DOT or a Mermaid flowchart, states as
 * colours. Takes what `flow.graph()` returns (or any graph of the same
 * shape), typed structurally so this file loads nothing: the package entry
 * re-exports it.
 */

/** A node label as `flow.graph()` gives it. */
export interface GraphNodeLabel {
  name: string;
  state: string;
  kind: string;
}

/** The part of a @dagrejs/graphlib `Graph` these read. */
export interface GraphLike {
  nodes(): string[];
  node(v: string): GraphNodeLabel | undefined;
  edges(): { v: string; w: string }[];
}

/** Fill colours by state; unknown states stay white. */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  PENDING: "#e0e0e0",
  RUNNING: "#90caf9",
  DONE: "#a5d6a7",
  FAILED: "#ef9a9a",
  CANCELLED: "#ffe082",
};

const DOT_SHAPES: Readonly<Record<string, string>> = { function: "box", executable: "component", block: "folder" };

/**
 * Graphviz DOT: a node per task (`name` over `uid`, filled by state, shaped by
 * kind), an edge from each dependency to its dependent. O(nodes + edges).
 * @example writeFileSync("flow.dot", toDot(flow.graph())); // dot -Tsvg flow.dot > flow.svg
 */
export function toDot(g: GraphLike): string {
  const lines = ["digraph asyncflow {", "  rankdir=LR;", '  node [style="filled,rounded", fontname="Helvetica", fontsize=10];'];
  for (const v of g.nodes()) {
    const l = g.node(v);
    const fill = (l && STATE_COLOURS[l.state]) ?? "#ffffff";
    const shape = (l && DOT_SHAPES[l.kind]) ?? "box";
    const label = l ? `${l.name}\n${v}\n${l.state}` : v;
    lines.push(`  ${dotId(v)} [label=${dotId(label)}, shape=${shape}, fillcolor="${fill}"];`);
  }
  for (const { v, w } of g.edges()) lines.push(`  ${dotId(v)} -> ${dotId(w)};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * A Mermaid flowchart (renders in GitHub Markdown): a node per task, a class
 * per state. O(nodes + edges).
 */
export function toMermaid(g: GraphLike): string {
  const ids = new Map<string, string>();
  const lines = ["flowchart LR"];
  const byState = new Map<string, string[]>();
  for (const v of g.nodes()) {
    const id = `n${ids.size}`;
    ids.set(v, id);
    const l = g.node(v);
    const text = l ? `${mermaidText(l.name)}<br/>${mermaidText(v)}` : mermaidText(v);
    lines.push(l?.kind === "block" ? `  ${id}[["${text}"]]` : l?.kind === "executable" ? `  ${id}[/"${text}"/]` : `  ${id}["${text}"]`);
    if (l) {
      const list = byState.get(l.state);
      if (list === undefined) byState.set(l.state, [id]);
      else list.push(id);
    }
  }
  for (const { v, w } of g.edges()) {
    const a = ids.get(v);
    const b = ids.get(w);
    if (a !== undefined && b !== undefined) lines.push(`  ${a} --> ${b}`);
  }
  for (const [state, members] of byState) {
    const fill = STATE_COLOURS[state];
    if (fill === undefined) continue;
    const cls = state.toLowerCase();
    lines.push(`  classDef ${cls} fill:${fill},stroke:#555`);
    lines.push(`  class ${members.join(",")} ${cls}`);
  }
  return lines.join("\n") + "\n";
}

function dotId(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

// Mermaid's own entity codes: a quote would close the label, # starts an entity.
function mermaidText(s: string): string {
  return s.replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}
