/** `asyncflow report`: what happened in a traced run. */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { AsyncflowError, CommandLineError, TraceFileError, describe } from "../contract/errors.js";
import { criticalPath } from "../report/critical.js";
import { loadTrace } from "../report/load.js";
import { statsByName } from "../report/stats.js";
import { onePositional, parsing } from "./args.js";
import type { Subcommand } from "./io.js";

const usage = `usage: asyncflow report TRACE.jsonl [--html FILE] [--task UID] [--session ID]

Reads a trace file (WorkflowEngine.create({ trace: "run.jsonl" }) or ASYNCFLOW_TRACE)
and prints the table per task name (count, mean / p50 / p95 duration and wait,
failures, retries), the critical path and the failures.

  --html FILE    write a self-contained HTML page instead: Gantt timeline,
                 critical path, concurrency per backend, the table
  --task UID     that task's story: its events, its dependencies and when each
                 finished, what it waited on longest
  --session ID   the session to report when several runs appended to the file
                 (default: the last one; the report says which others there are)
  -h, --help     this text`;

const flags = { html: { type: "string" }, task: { type: "string" }, session: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

export const report: Subcommand = {
  summary: "what happened in a traced run",
  usage,
  async run(argv, io) {
    const { values, positionals } = parsing(usage, flags, (options) => parseArgs({ args: argv, options, allowPositionals: true }));
    if (values.help === true) return io.out(usage + "\n");
    const file = onePositional(positionals, "a trace file", usage);
    if (values.html !== undefined && values.task !== undefined) throw new CommandLineError("--html and --task go separately", usage);
    if (values.html !== undefined && resolve(values.html) === resolve(file)) throw new CommandLineError(`--html ${values.html} is the trace it reads: give the page a name of its own`, usage);
    const trace = await loadTrace(file, { session: values.session, task: values.task });
    const { session } = trace;
    // Notes go to stderr so that the report itself can be piped or diffed.
    for (const note of trace.notes) io.err(`asyncflow report: ${note}\n`);
    if (values.task !== undefined) {
      const task = session.tasks.get(values.task);
      if (task === undefined) throw new TraceFileError(file, `session ${session.sessionId} has no task ${values.task}`);
      const { taskStory } = await import("../report/story.js");
      return io.out(taskStory(session, task, trace.taskEvents));
    }
    const path = criticalPath(session);
    if (values.html !== undefined) {
      const { htmlReport } = await import("../report/html.js");
      const page = await htmlReport(trace, path, statsByName(session));
      await writeFile(values.html, page).catch((error: unknown) => {
        throw new AsyncflowError(`page ${values.html!}: cannot be written: ${describe(error)}`, { cause: error });
      });
      return io.out(`wrote ${values.html}: ${session.tasks.size} tasks of session ${session.sessionId}, ${page.length < 1e6 ? `${Math.ceil(page.length / 1e3)} kB` : `${(page.length / 1e6).toFixed(1)} MB`}\n`);
    }
    const { textReport } = await import("../report/text.js");
    io.out(textReport(session, statsByName(session), path, []));
  },
};
