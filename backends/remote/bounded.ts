/**
 * Memory of the most recent few: workers keep caches and notes (compiled
 * functions, imported modules, cancels that came early, errors already said)
 * that must not grow with the jobs they see. Maps and Sets keep insertion
 * order, so the oldest entries are the first keys.
 */
export function forgetOldest<K>(entries: Map<K, unknown> | Set<K>, max: number): void {
  while (entries.size > max) entries.delete(entries.keys().next().value as K);
}
