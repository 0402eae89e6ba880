/** `asyncflow graph`: a traced run's dependency graph as DOT or Mermaid. */
import { parseArgs } from "node:util";
import { CommandLineError } from "../contract/errors.js";
import { toDot, toMermaid } from "../report/dot.js";
import { loadTrace } from "../report/load.js";
import { traceGraph } from "../report/trace-graph.js";
import { onePositional, parsing } from "./args.js";
import type { Subcommand } from "./io.js";

const usage = `usage: asyncflow graph TRACE.jsonl [--format dot|mermaid] [--session ID]

Prints the dependency graph of a traced run: a node per task (name, uid,
coloured by its final state), an edge from each dependency to its dependent.

  --format dot|mermaid   Graphviz DOT (default; dot -Tsvg) or a Mermaid flowchart
  --session ID           the session when several runs appended to the file
                         (default: the last one)
  -h, --help             this text`;

const flags = { format: { type: "string", default: "dot" }, session: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

export const graph: Subcommand = {
  summary: "a traced run's dependency graph",
  usage,
  async run(argv, io) {
    const { values, positionals } = parsing(usage, flags, (options) => parseArgs({ args: argv, options, allowPositionals: true }));
    if (values.help === true) return io.out(usage + "\n");
    const file = onePositional(positionals, "a trace file", usage);
    const format = values.format;
    if (format !== "dot" && format !== "mermaid") throw new CommandLineError(`--format is dot or mermaid, got ${JSON.stringify(format)}`, usage);
    const trace = await loadTrace(file, { session: values.session });
    for (const note of trace.notes) io.err(`asyncflow graph: ${note}\n`);
    const g = traceGraph(trace.session);
    io.out(format === "dot" ? toDot(g) : toMermaid(g));
  },
};
