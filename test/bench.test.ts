// The benchmarks are not part of `npm test`; this smoke test runs every case
// with tiny sizes so that they never rot. It asserts they run and report, not speed.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("bench smoke", () => {
  it("runs every case with --quick and prints a row for each", () => {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", new URL("../bench/run.ts", import.meta.url).pathname, "--quick"], {
      encoding: "utf8",
      timeout: 180_000,
    });
    expect(r.status, r.stderr).toBe(0);
    for (const name of ["user: independent", "user: chain", "sink(...futures)", "sink(futures)", "user: layered", "awaited futures pending", "your promises after asyncflow ran", "callbacks: independent", "callbacks: chain", "callbacks: fan-out/fan-in", "callbacks: layered", "outside GC pauses", "wall clock", "tasks pending", "stream", "pending (one edge each)", "kept per finished task", "threads:", "exec:", 'import "asyncflow"', "queue: 200 no-op jobs", "queue: chain of", "queue: shutdown, 200 jobs waiting", "report page: 1,000 tasks drawn", "checkpoint on vs off", "rerun of a finished"]) {
      expect(r.stdout, name).toContain(name);
    }
  }, 200_000);

  it("selects cases by name and refuses unknown ones", () => {
    const script = new URL("../bench/run.ts", import.meta.url).pathname;
    const one = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script, "--quick", "chain"], { encoding: "utf8", timeout: 60_000 });
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain("callbacks: chain 200");
    expect(one.stdout).not.toContain("independent");
    const bad = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script, "nope"], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown case\(s\) nope: choose from user-independent, user-chain/);
    const badNode = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script, "--node", "latest"], { encoding: "utf8", timeout: 60_000 });
    expect(badNode.status).toBe(2);
    expect(badNode.stderr).toContain("--node expects majors such as 24 or 20,24, got latest");
  }, 120_000);
});

describe("bench turns", () => {
  // Each turn leaves garbage (and a queue's finished jobs) to whoever comes next: in a fixed order, the queue case's
  // signed side always paid for the unsigned side's, and the unsigned side never for anyone's but raw BullMQ's.
  it("puts each contender right after each other one equally often", async () => {
    const { interleave } = await import("../bench/harness.js");
    for (const n of [2, 3, 4, 5]) {
      const names = Array.from({ length: n }, (_, i) => `c${i}`);
      const turns: string[] = [];
      const rounds = n % 2 === 0 ? n : 2 * n;
      await interleave({ quick: false, warmup: 0, repeats: rounds }, Object.fromEntries(names.map((k) => [k, { run: async () => (turns.push(k), 1) }])));
      const follows = new Map<string, number>();
      for (let r = 0; r < rounds; r++) {
        const round = turns.slice(r * n, (r + 1) * n);
        expect(new Set(round).size, `round ${r} of ${n}`).toBe(n);
        for (let i = 1; i < n; i++) follows.set(`${round[i - 1]}>${round[i]}`, (follows.get(`${round[i - 1]}>${round[i]}`) ?? 0) + 1);
      }
      expect(follows.size, `${n} contenders: ordered pairs seen`).toBe(n * (n - 1));
      expect(new Set(follows.values()).size, `${n} contenders: ${JSON.stringify([...follows])}`).toBe(1);
    }
  });

  it("keeps each contender's figures by round, and pairs them for a ratio", async () => {
    const { interleave, pairedRatio } = await import("../bench/harness.js");
    // Two contenders on a machine that changes speed between rounds: their medians come from different rounds.
    const figures = { a: [10, 10, 30, 30, 30], b: [10, 20, 20, 20, 30] };
    const next = { a: 0, b: 0 };
    const got = await interleave({ quick: false, warmup: 0, repeats: 5 }, { a: { run: async () => figures.a[next.a++]!, rounds: 5 }, b: { run: async () => figures.b[next.b++]!, rounds: 5 } });
    const [a, b] = [got.a, got.b];
    if (a instanceof Error || b instanceof Error) throw new Error("a contender failed");
    expect(a.byRound).toEqual(figures.a);
    expect(a.median / b.median).toBe(1.5);
    // each round's ratio: 1, 0.5, 1.5, 1.5, 1
    expect(pairedRatio(a, b)).toBe(1);
    expect(() => pairedRatio({ ...a, byRound: [1] }, b)).toThrow(/each measured in every round/);
    // An even count's median is the mean of its two middle figures (twelve queue rounds), not the upper one.
    const { summarize } = await import("../bench/harness.js");
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });
});
