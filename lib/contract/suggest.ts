/**
 * "Did you mean" for a mistyped name (an option, a command, a backend, a
 * registered function): the closest known name by edit distance, when it is
 * close enough to be the likely intent.
 */
import { distance } from "fastest-levenshtein";

/** The known name `input` most likely meant, or null when none is within a third of its length in edits (two for longer names, one for names of three characters or fewer). */
export function closestName(input: string, known: Iterable<string>): string | null {
  // One edit in a name of three characters or fewer already changes a third of it: "max" is not a typo of "min".
  const limit = input.length <= 3 ? 1 : Math.max(2, Math.ceil(input.length / 3));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const name of known) {
    const d = distance(input.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** ` (did you mean "x"?)`, quoted as `quote` quotes, or "" when nothing known is close. */
export function didYouMean(input: string, known: Iterable<string>, quote: (name: string) => string = (n) => `"${n}"`): string {
  const name = closestName(input, known);
  return name === null ? "" : ` (did you mean ${quote(name)}?)`;
}

/** A parseArgs error's message, with the likely flag when it names an unknown long one. */
export function withFlagHint(error: unknown, flags: Readonly<Record<string, unknown>>): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '--([^'=]+)'/.exec(message);
  if (unknown === null) return message;
  const flag = `'--${unknown[1]!}'`;
  return message.replace(flag, `${flag}${didYouMean(unknown[1]!, Object.keys(flags), (n) => `--${n}`)}`);
}
