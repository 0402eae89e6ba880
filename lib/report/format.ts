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
  return `${t.name} (${t.uid})`;
}
