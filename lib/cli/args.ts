/** Command-line parsing with our errors: a malformed command line becomes a CommandLineError carrying the usage. */
import { CommandLineError } from "../contract/errors.js";
import { withFlagHint } from "../contract/suggest.js";

/** Runs `parse` (a `parseArgs` call over the `flags` it is handed), turning what it throws into a CommandLineError that names the likely flag. */
export function parsing<F extends Readonly<Record<string, unknown>>, T>(usage: string, flags: F, parse: (flags: F) => T): T {
  try {
    return parse(flags);
  } catch (error) {
    throw new CommandLineError(withFlagHint(error, flags), usage);
  }
}

/** The one positional argument (the trace file), or a CommandLineError. */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length === 0) throw new CommandLineError(`${what} is required`, usage);
  if (positionals.length > 1) throw new CommandLineError(`${what} is required, only one: got ${positionals.length} (${positionals.join(" ")})`, usage);
  return positionals[0]!;
}
