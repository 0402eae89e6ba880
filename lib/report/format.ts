/** Durations, times and aligned columns for the terminal. */

/** `0.42 ms`, `12.3 ms`, `4.21 s`, `2 m 03 s`. */
export function ms(value: number): string {
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${value.toFixed(1)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(2)} s`;
  const s = Math.round(value / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
}

/** A time as an offset from the session's start: `+12.345 ms` style, fixed to the ms. */
export function offset(time: number, origin: number): string {
  return `+${((time - origin) / 1000).toFixed(3)} s`;
}

/** Rows of cells as columns separated by two spaces; columns whose header starts with a space are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  rows = rows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.trim().length, ...rows.map((r) => (r[i] ?? "").length)));
  const right = header.map((h) => h.startsWith(" "));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.trim().padStart(widths[i]!) : c.trim().padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `name (uid)` as asyncflow names tasks everywhere. */
export function who(t: { uid: string; name: string }): string {
  return `${printable(t.name)} (${t.uid})`;
}

// C0 and C1 controls, DEL, and the two line separators JavaScript counts as line ends.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text with its control characters written as escapes (`\n`, `\u001b`): a name cannot break a line or drive the terminal. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
