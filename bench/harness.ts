/** Timing and reporting for the benchmarks: warm-up, repeats, median and spread, one row per case. */
import { GCProfiler } from "node:v8";

export interface Sample {
  /** median of the per-unit figure */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
  /** The figures in the order measured, one a round (from {@link interleave}). */
  readonly byRound?: readonly number[];
}

export interface Row {
  readonly case: string;
  readonly metric: string;
  readonly ours: Sample;
  readonly baselineName: string;
  readonly baseline: Sample | null;
  /** ours / baseline, or baseline / ours where higher is better */
  readonly ratio: number | null;
  readonly peers: Record<string, Sample>;
  readonly target: string;
  readonly pass: boolean | null;
  readonly note?: string;
}

export interface Settings {
  readonly quick: boolean;
  readonly repeats: number;
  readonly warmup: number;
}

/**
 * Runs `once` (which returns its per-unit figure) to warm up (at least
 * `warmup` times and 300 ms, so the JIT has settled), then measures at least
 * `repeats` times and 500 ms (at most 50 runs); median and range.
 */
export async function sample(settings: Settings, once: () => Promise<number>, repeats = settings.repeats): Promise<Sample> {
  const budget = settings.quick ? 0 : 1;
  let t0 = performance.now();
  for (let i = 0; i < settings.warmup || (budget > 0 && i < 50 && performance.now() - t0 < 300 * budget); i++) await once();
  // No forced GC between runs: a full collection shrinks the young generation
  // and makes the next run pay to regrow it (measured: 0.3-3.3 us/hop on a
  // chain that runs at 0.65 without it).
  const xs: number[] = [];
  t0 = performance.now();
  for (let i = 0; i < repeats || (budget > 0 && repeats > 1 && i < 50 && performance.now() - t0 < 500 * budget); i++) {
    xs.push(await once());
  }
  return summarize(xs);
}

/**
 * Runs `a` and `b` in turns (warm-ups, then at least 7 rounds), so that both
 * see the same machine: for cases whose speed drifts between runs more than
 * the difference measured (processes spawned, several processes on 2 cores).
 */
export async function alternate(s: Settings, a: () => Promise<number>, b: () => Promise<number>): Promise<[Sample, Sample]> {
  for (let i = 0; i < s.warmup; i++) {
    await a();
    await b();
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < Math.max(s.repeats, s.quick ? 1 : 7); i++) {
    xs.push(await a());
    ys.push(await b());
  }
  return [summarize(xs), summarize(ys)];
}

/** One contender of {@link interleave}: a measured run, and how many rounds it takes part in (slow peers take fewer). */
export interface Contender {
  /** One run, giving its figure; `measured` is false for a warm-up run, whose figure is not kept. */
  readonly run: (measured: boolean) => Promise<number>;
  readonly rounds?: number;
}

/**
 * Runs every contender once per round, in turns (warm-ups, then at least 7
 * rounds in a full run), so that ours and the floors in the clean process see
 * the same machine: others share its two cores and its speed drifts. Each
 * round takes its order from {@link turnOrder}. A contender that throws is
 * out of the later rounds; its entry is the error.
 */
export async function interleave<K extends string>(s: Settings, contenders: Record<K, Contender>): Promise<Record<K, Sample | Error>> {
  const names = Object.keys(contenders) as K[];
  const figures = new Map<K, number[]>(names.map((k) => [k, []]));
  const failed = new Map<K, Error>();
  const rounds = Math.max(s.repeats, s.quick ? 1 : 7);
  for (let r = -s.warmup; r < rounds; r++) {
    for (const k of turnOrder(names.length, r).map((i) => names[i]!)) {
      const c = contenders[k];
      if (failed.has(k) || r >= (c.rounds ?? rounds) || (r < 0 && c.rounds !== undefined && -r > Math.min(s.warmup, c.rounds))) continue;
      try {
        const x = await c.run(r >= 0);
        if (r >= 0) figures.get(k)!.push(x);
      } catch (error) {
        failed.set(k, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
  const out = {} as Record<K, Sample | Error>;
  for (const k of names) out[k] = failed.get(k) ?? { ...summarize(figures.get(k)!), byRound: figures.get(k)! };
  return out;
}

/**
 * The order of `n` contenders in round `r` (warm-ups count from -1 down): a
 * Williams design, the Latin square balanced for carry-over, so that over n
 * rounds (2n for odd n) each contender comes right after each other one
 * equally often within a round (not across the boundary between rounds, and
 * only partly when a run is not a whole number of such periods). What a turn
 * leaves behind (garbage for the collector, a queue's finished jobs for
 * Redis) falls on the next turn: in one fixed order, the same contender would
 * always pay for the same other one.
 */
export function turnOrder(n: number, r: number): number[] {
  // First row 0, 1, n-1, 2, n-2, ...; row k adds k (mod n); for odd n, the same rows reversed follow.
  const first: number[] = [];
  for (let i = 0, lo = 1, hi = n - 1; i < n; i++) first.push(i === 0 ? 0 : i % 2 === 1 ? lo++ : hi--);
  const rows = n % 2 === 0 ? n : 2 * n;
  const k = ((r % rows) + rows) % rows;
  const row = first.map((x) => (x + k) % n);
  return k >= n ? row.reverse() : row;
}

/**
 * The median of each round's `a / b`, for two contenders of one
 * {@link interleave} that took part in every round: each pair was measured
 * moments apart on the same machine, whose speed moves between rounds by more
 * than the difference measured (the queue case's hop rounds fell in two
 * groups, ~1.1 and ~1.5 ms, on every side), while the ratio of the two
 * medians can take them from different groups.
 */
export function pairedRatio(a: Sample, b: Sample): number {
  const [x, y] = [a.byRound, b.byRound];
  if (x === undefined || y === undefined || x.length !== y.length) throw new Error("pairedRatio: expected two contenders of one interleave, each measured in every round");
  return summarize(x.map((v, i) => v / y[i]!)).median;
}

/** Median and range of measured figures. */
export function summarize(figures: readonly number[]): Sample {
  const xs = [...figures].sort((a, b) => a - b);
  const mid = Math.floor(xs.length / 2);
  // Of an even count, the mean of the two middle figures (the upper one alone leaned every ratio one way).
  const median = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { median, min: xs[0]!, max: xs[xs.length - 1]!, runs: xs.length };
}

/** Microseconds per unit of `fn()` that does `units` units of work. */
export async function usPer(units: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return ((performance.now() - t0) * 1000) / units;
}

/**
 * Like {@link usPer}, and also pushes onto `outside` the per-unit time less
 * the garbage collector's pauses in it (v8.GCProfiler): the code's own time.
 * The last `Sample.runs` entries belong to the measured runs of a `sample`.
 */
export async function usPerOutsideGc(units: number, fn: () => Promise<unknown>, outside: number[]): Promise<number> {
  const profiler = new GCProfiler();
  profiler.start();
  const us = await usPer(units, fn);
  const pausedMs = profiler.stop().statistics.reduce((sum, g) => sum + g.cost / 1000, 0);
  outside.push(us - (pausedMs * 1000) / units);
  return us;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
export const show = (s: Sample | null): string => (s === null ? "-" : Number.isNaN(s.median) ? "fails" : `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`);

/** The row's figure for a contender that failed: shown as "fails", never passes. */
export const FAILED: Sample = { median: NaN, min: NaN, max: NaN, runs: 0 };

export function printRow(r: Row): void {
  const peers = Object.entries(r.peers)
    .map(([k, v]) => `${k} ${fmt(v.median)}`)
    .join("; ");
  const verdict = r.pass === null ? "" : r.pass ? "PASS" : "MISS";
  console.log(
    [
      r.case.padEnd(34),
      `${show(r.ours)} ${r.metric}`.padEnd(30),
      `${r.baselineName} ${show(r.baseline)}`.padEnd(34),
      `ratio ${r.ratio === null ? "-" : r.ratio.toFixed(2)}`.padEnd(12),
      `${verdict} ${r.target}`.padEnd(40),
      peers,
      r.note ?? "",
    ].join(" | "),
  );
}
