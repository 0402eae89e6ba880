/**
 * Pushes `x` on `list`, a list of tasks that only grows while they run (a
 * block's children, a dependency's dependents), and at each power of two
 * from 64 drops the entries that have `ended`: the list then holds its live
 * entries, not every one it ever had. When most are live, the list stays as
 * it is, to be looked at again at twice the length: O(1) amortized per push
 * whatever the share of live entries (a rule of "drop at each power of two"
 * alone costs a whole pass per push for a list that keeps 2^k - 1 live).
 * @returns the list to keep (`list`, or the pruned copy).
 */
export function pushPruned<T>(list: T[], x: T, ended: (entry: T) => boolean): T[] {
  const n = list.push(x);
  if (n < 64 || (n & (n - 1)) !== 0) return list;
  const live = list.filter((entry) => !ended(entry));
  return live.length <= n / 2 ? live : list;
}
