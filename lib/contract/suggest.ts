/**
 * "Did you mean" for a mistyped name (an option, a command, a backend, a
 * registered function): the closest known name by edit distance, when it is
 * close enough to be the likely intent.
 */
import { distance } from "fastest-levenshtein";

/**
 * The names `input` most likely meant, closest first: the closest known name
 * (the first of a tie), when it is within a third of the input's length in
 * edits (two for longer names, one for names of three characters or fewer),
 * then one a single edit further, if any (`retry` is two edits from `retryOn`
 * and three from `retries`: either may be meant).
 */
export function likelyNames(input: string, known: Iterable<string>): string[] {
  // One edit in a name of three characters or fewer already changes a third of it: "max" is not a typo of "min".
  const limit = input.length <= 3 ? 1 : Math.max(2, Math.ceil(input.length / 3));
  const typed = input.toLowerCase();
  const scored = Array.from(known, (name) => ({ name, d: distance(typed, name.toLowerCase()) }));
  let best: { name: string; d: number } | null = null;
  for (const s of scored) if (s.d <= limit && (best === null || s.d < best.d)) best = s;
  if (best === null) return [];
  let next: { name: string; d: number } | null = null;
  for (const s of scored) if (s !== best && s.d <= best.d + 1 && (next === null || s.d < next.d)) next = s;
  return next === null ? [best.name] : [best.name, next.name];
}

/** The known name `input` most likely meant (see likelyNames), or null when none is close. */
export function closestName(input: string, known: Iterable<string>): string | null {
  return likelyNames(input, known)[0] ?? null;
}

/** ` (did you mean "x"?)` or ` (did you mean "x" or "y"?)`, quoted as `quote` quotes, or "" when nothing known is close. */
export function didYouMean(input: string, known: Iterable<string>, quote: (name: string) => string = (n) => `"${n}"`): string {
  const names = likelyNames(input, known);
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
