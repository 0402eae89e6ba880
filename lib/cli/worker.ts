/** `asyncflow worker`: the queue worker, loaded (with bullmq) only when this command runs. */
import type { Subcommand } from "./io.js";

export const worker: Subcommand = {
  summary: "serve a QueueBackend's jobs from this machine",
  // The queue worker parses its own options and prints its own usage (asyncflow worker --help).
  usage: "usage: asyncflow worker [options]: see asyncflow worker --help",
  async run(argv, io) {
    const { main } = await import("../../backends/queue/cli.js");
    await main(argv).catch((error: unknown) => {
      io.err(`asyncflow worker: ${error instanceof Error ? error.message : String(error)}\n`);
      // As asyncflow-worker does: connections being retried must not keep the process up.
      process.exit(2);
    });
  },
};
