#!/usr/bin/env node
/** The `asyncflow` bin: see `asyncflow --help`. */
import { processIo } from "./io.js";
import { runCli } from "./main.js";

// A reader that goes away (`asyncflow graph t.jsonl | head`) ends what is printed, not the command: the rest is dropped.
let readerGone = false;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (!readerGone && error.code !== "EPIPE") throw error;
  readerGone = true;
});

const code = await runCli(process.argv.slice(2), processIo);
// A subcommand may have set its own exit code (the worker does): keep it unless this one says failure.
if (code !== 0) process.exitCode = code;
