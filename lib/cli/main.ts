/**
 * `asyncflow <command>`: dispatches to a subcommand, each in its own file and
 * loaded only when named, so `asyncflow report` never loads bullmq.
 */
import { AsyncflowError, CommandLineError } from "../contract/errors.js";
import type { CliIo, Subcommand } from "./io.js";
import { didYouMean } from "../contract/suggest.js";

const COMMANDS: Record<string, { summary: string; load: () => Promise<Subcommand> }> = {
  report: { summary: "what happened in a traced run: per-name table, critical path, failures, a task's story, an HTML timeline", load: async () => (await import("./report.js")).report },
  graph: { summary: "a traced run's dependency graph as Graphviz DOT or Mermaid", load: async () => (await import("./graph.js")).graph },
  worker: { summary: "serve a QueueBackend's jobs from this machine (also installed as asyncflow-worker)", load: async () => (await import("./worker.js")).worker },
};

export const usage = `usage: asyncflow <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)}${c.summary}`)
  .join("\n")}

Run asyncflow <command> --help for its options.`;

/**
 * Runs one command line; resolves to the exit code: 0, 1 when the command
 * failed (an unreadable trace), 2 for a malformed command line.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name !== undefined) {
      io.out(usage + "\n");
      return 0;
    }
    io.err(usage + "\n");
    return 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`asyncflow: unknown command ${JSON.stringify(name)}${didYouMean(name, Object.keys(COMMANDS))}\n${usage}\n`);
    return 2;
  }
  try {
    const sub = await command.load();
    await sub.run(rest, io);
    return 0;
  } catch (error) {
    if (error instanceof CommandLineError) {
      io.err(`asyncflow ${name}: ${error.message}\n${error.usage}\n`);
      return 2;
    }
    // Our own errors say what went wrong in their message; anything else is a bug worth its stack.
    io.err(`asyncflow ${name}: ${error instanceof AsyncflowError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
