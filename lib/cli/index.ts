#!/usr/bin/env node
/** The `asyncflow` bin: see `asyncflow --help`. */
import { processIo } from "./io.js";
import { runCli } from "./main.js";

const code = await runCli(process.argv.slice(2), processIo);
// A subcommand may have set its own exit code (the worker does): keep it unless this one says failure.
if (code !== 0) process.exitCode = code;
