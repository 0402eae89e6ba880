import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointLockedError, WorkflowEngine } from "../lib/index.js";
import { lockFile } from "../lib/engine/lock.js";
import { engine, until } from "./helpers.js";

const racer = new URL("./fixtures/lock-race.ts", import.meta.url).pathname;

describe("checkpoint lock", () => {
  it("processes taking over one stale lock at once: exactly one of them gets it, every round", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-lock-"));
    const [racers, rounds] = [4, 30];
    // a pid nobody has: a process that has exited
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    for (let r = 0; r < rounds; r++) writeFileSync(join(dir, `ckpt.${r}.lock`), String(dead));
    const children = Array.from({ length: racers }, () => spawn(process.execPath, ["--import", "tsx", racer, dir, String(rounds)], { stdio: "ignore" }));
    try {
      const files = (prefix: string): string[] => readdirSync(dir).filter((f) => f.startsWith(prefix));
      await until(() => files("ready.").length === racers, 60_000);
      expect(files("ready.")).toHaveLength(racers);
      const outcomes = (): string[] => files("results.").flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== ""));
      for (let r = 0; r < rounds; r++) {
        writeFileSync(join(dir, `go.${r}`), "");
        await until(() => outcomes().filter((l) => l.startsWith(`${r} `)).length === racers, 10_000);
      }
      const won = outcomes().filter((l) => l.endsWith(" won"));
      expect(outcomes().filter((l) => !/ (won|lost)$/.test(l))).toEqual([]);
      expect(won.map((l) => Number(l.split(" ")[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: rounds }, (_, r) => r));
      expect(existsSync(join(dir, "ckpt.0.lock"))).toBe(true);
    } finally {
      for (const c of children) c.kill("SIGKILL");
    }
  }, 120_000);

  it("a takeover cut short by its taker's death leaves the lock refused, naming the guard to remove", () => {
    const dir = mkdtempSync(join(tmpdir(), "af-lock-"));
    const path = join(dir, "run.ckpt");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(`${path}.lock`, String(dead));
    writeFileSync(`${path}.lock.takeover`, String(dead));
    let err: unknown;
    try {
      lockFile(path)();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointLockedError);
    expect((err as Error).message).toBe(`checkpoint ${path}: a takeover of its stale lock by process ${dead} was interrupted: remove ${path}.lock.takeover if no process uses the checkpoint`);
    // once removed, the stale lock is taken over and released again
    rmSync(`${path}.lock.takeover`);
    lockFile(path)();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("two paths to one checkpoint (a symlink to the file, to its directory, to a file not made yet) find one lock: the second engine is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-lock-"));
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real", "run.ckpt"), join(dir, "latest.ckpt")); // dangling until the first engine makes the file
    symlinkSync(join(dir, "real"), join(dir, "dir-link"));
    const second = (path: string): Promise<unknown> => WorkflowEngine.create({ checkpoint: path, handleSignals: false }).then(
        async (flow) => (await flow.shutdown(), flow),
        (e: unknown) => e,
      );
    // the file not made yet: through the dangling link first, then by its own path
    const first = await engine({ checkpoint: join(dir, "latest.ckpt") });
    for (const other of [join(dir, "real", "run.ckpt"), join(dir, "dir-link", "run.ckpt")]) {
      const err = await second(other);
      expect(err).toBeInstanceOf(CheckpointLockedError);
      expect((err as CheckpointLockedError).pid).toBe(process.pid);
    }
    await first.shutdown();
    // the file made: by its own path first, then through either link
    const again = await engine({ checkpoint: join(dir, "real", "run.ckpt") });
    for (const other of [join(dir, "latest.ckpt"), join(dir, "dir-link", "run.ckpt")]) expect(await second(other)).toBeInstanceOf(CheckpointLockedError);
    await again.shutdown();
    expect(readdirSync(join(dir, "real"))).toEqual(["run.ckpt"]);
  });

  it("a lock held by a live process that is not this program's is refused, naming the lock file to remove", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-lock-"));
    const path = join(dir, "run.ckpt");
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(`${path}.lock`, String(other.pid));
      expect(() => lockFile(path)).toThrow(
        `checkpoint ${path} is in use by process ${other.pid}: give each concurrent program its own checkpoint file, or wait until that one has shut down (if process ${other.pid} is not one of yours, say its pid was reused after a restart or it runs in another container, remove ${path}.lock)`,
      );
    } finally {
      other.kill("SIGKILL");
    }
  });
});
