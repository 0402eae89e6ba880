import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alive, until } from "./helpers.js";

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe("process lifecycle", () => {
  it("exits by itself after shutdown and survives unawaited failures", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture("exit-clean.ts")], {
      encoding: "utf8",
      timeout: 15_000,
      env: { ...process.env, ASYNCFLOW_LOG_LEVEL: "debug" },
    });
    // a process that does not exit by itself is killed by spawnSync's timeout: signal SIGTERM, status null
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("sum 3\nalive after unawaited failures\nshut down\n");
    // nothing is lost silently: the unawaited failures show in the debug log, named by uid
    expect(r.stderr).toMatch(/task\.000001 unawaitedFailure: FAILED \(Error: nobody awaits me\)/);
    expect(r.stderr).toMatch(/task\.000003 inc: FAILED \(DependencyFailureError/);
    expect(r.stderr).toMatch(/task\.000004 hang: CANCELLED/);
    // debug shows registration, resolution/dispatch and completion
    expect(r.stderr).toMatch(/task\.000008 inc: registered, dependencies task\.000007 \(waiting on 1\)/);
    expect(r.stderr).toMatch(/task\.000008 inc: arguments resolved, dispatched to local/);
    expect(r.stderr).toMatch(/task\.000008 inc: DONE/);
    expect(r.stderr).not.toMatch(/Unhandled|unhandled/);
  });

  it("logs at the default level only the failures nobody looked at, at shutdown", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", fixture("exit-clean.ts")], {
      encoding: "utf8",
      timeout: 15_000,
      env: { ...process.env, ASYNCFLOW_LOG_LEVEL: "" },
    });
    expect(r.status).toBe(0);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/WARN asyncflow\.session\.\w+ 1 task failed and nobody looked at it: unawaitedFailure \(task\.000001\): Error: nobody awaits me$/);
    expect(lines[1]).toMatch(/WARN asyncflow\.session\.\w+ 1 task did not run because a dependency failed and nobody looked at it: inc \(task\.000003\): unawaitedFailure \(task\.000002\) failed: Error: nobody awaits me$/);
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("on %s shuts down gracefully, kills running processes, and exits %d", async (signal, code) => {
    const pidfile = join(mkdtempSync(join(tmpdir(), "af-")), "pid");
    const child = spawn(process.execPath, ["--import", "tsx", fixture("signal.ts")], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PIDFILE: pidfile },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    await until(() => out.includes("ready"), 15_000);
    expect(out).toContain("ready");
    child.kill(signal);
    expect(await exited).toBe(code);
    expect(out).toContain("task CANCELLED");
    expect(out).not.toContain("not interrupted");
    expect(err).toBe("");
    const sleeper = Number(readFileSync(pidfile, "utf8"));
    expect(sleeper).toBeGreaterThan(0);
    // the grandchild `sleep 30` was killed with its process group (reaping it may take a moment after our child exits)
    await until(() => !alive(sleeper), 10_000);
    expect(alive(sleeper)).toBe(false);
  });
});
