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

/**
 * The names `input` most likely meant: the closest (see closestName), then one
 * a single edit further, if any (`retry` is two edits from `retryOn` and three
 * from `retries`: either may be meant). Closest first.
 */
export function likelyNames(input: string, known: Iterable<string>): string[] {
  const best = closestName(input, known);
  if (best === null) return [];
  const within = distance(input.toLowerCase(), best.toLowerCase()) + 1;
  let next: string | null = null;
  let nextDistance = within + 1;
  for (const name of known) {
    if (name === best) continue;
    const d = distance(input.toLowerCase(), name.toLowerCase());
    if (d < nextDistance) [next, nextDistance] = [name, d];
  }
  return next === null ? [best] : [best, next];
}

/** ` (did you mean "x"?)` or ` (did you mean "x" or "y"?)`, quoted as `quote` quotes, or "" when nothing known is close. */
export function didYouMean(input: string, known: Iterable<string>, quote: (name: string) => string = (n) => `"${n}"`): string {
  const names = likelyNames(input, [...known]);
  return names.length === 0 ? "" : ` (did you mean ${names.map(quote).join(" or ")}?)`;
}

/** A parseArgs error's message, with the likely flag when it names an unknown long one. */
export function withFlagHint(error: unknown, flags: Readonly<Record<string, unknown>>): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '--([^'=]+)'/.exec(message);
  if (unknown === null) return message;
  const flag = `'--${unknown[1]!}'`;
  return message.replace(flag, `${flag}${didYouMean(unknown[1]!, Object.keys(flags), (n) => `--${n}`)}`);
}
