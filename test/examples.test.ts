import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const run = (name: string): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, ["--import", "tsx", new URL(`../examples/${name}`, import.meta.url).pathname], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, ASYNCFLOW_LOG_LEVEL: "warn" },
  });

describe("examples run and print what they promise", () => {
  it("01-basic", () => {
    const r = run("01-basic.ts");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("task.000005 (sum) is PENDING\nsum = 80\ntask.000005 is DONE\n");
  });
  it("02-blocks", () => {
    const r = run("02-blocks.ts");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("words = 9\n");
  });
  it("03-nested-blocks", () => {
    const r = run("03-nested-blocks.ts");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^result = 30\nblock\.\d+ CANCELLED: .*\(stuck\) was cancelled: taking too long\n$/);
  });
  it("05-threads", () => {
    const r = run("05-threads.ts");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("fib sum = 1028458\nprimes below 200000 = 17984\nevent loop stayed responsive: true\n");
  });
  it("04-callbacks", () => {
    const r = run("04-callbacks.ts");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("collected 8 results\n");
    expect(r.stdout).toContain("done=8 failed=2 cancelled=0\n");
    expect(r.stdout.match(/failed: item \d is bad/g)).toHaveLength(2);
  });
});
