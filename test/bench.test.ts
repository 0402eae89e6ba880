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
    for (const name of ["user: independent", "user: chain", "sink(...futures)", "sink(futures)", "user: layered", "awaited futures pending", "your promises after asyncflow ran", "callbacks: independent", "callbacks: chain", "callbacks: fan-out/fan-in", "callbacks: layered", "outside GC pauses", "wall clock", "tasks pending", "stream", "pending (one edge each)", "kept per finished task", "threads:", "exec:", 'import "asyncflow"', "queue: 200 no-op jobs", "queue: chain of", "queue: shutdown, 200 jobs waiting", "report page: 1,000 tasks drawn"]) {
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
