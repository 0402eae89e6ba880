/** `asyncflow worker`: the queue worker, loaded (with bullmq) only when this command runs. */
import type { Subcommand } from "./io.js";

export const worker: Subcommand = {
  summary: "serve a QueueBackend's jobs from this machine",
  usage: "usage: asyncflow worker --redis redis://host:port[/db] [--queue NAME] [--concurrency N] [--connect-timeout MS] [--lock-duration MS]",
  async run(argv, io) {
    const { main } = await import("../../backends/queue/cli.js");
    await main(argv).catch((error: unknown) => {
      io.err(`asyncflow worker: ${error instanceof Error ? error.message : String(error)}\n`);
      // As asyncflow-worker does: connections being retried must not keep the process up.
      process.exit(2);
    });
  },
};
