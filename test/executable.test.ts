import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExecutableError, InvalidTaskError, TaskCancelledError, TaskTimeoutError, taskContext } from "../lib/index.js";
import { runCommand } from "../backends/process/command.js";
import { alive, engine, until } from "./helpers.js";

describe("executable tasks", () => {
  it("runs a string through /bin/sh -c and resolves to stdout", async () => {
    const flow = await engine();
    const echo = flow.executableTask(function echo(n: number) {
      return `/bin/echo ${n} && echo "$HOME" >/dev/null`;
    });
    expect(await echo(5)).toBe("5\n");
  });

  it("runs an argv array without a shell", async () => {
    const flow = await engine();
    const printf = flow.executableTask((s: string) => ["printf", "%s", s], { name: "printf" });
    expect(await printf("a b; $(echo no)")).toBe("a b; $(echo no)");
  });

  it("feeds stdout into function tasks (the README example)", async () => {
    const flow = await engine();
    const echo = flow.executableTask(async (n: number) => `/bin/echo ${n}`, { name: "echo" });
    const times = flow.functionTask(async (s: string, k: number) => Number(s.trim()) * k, { name: "times" });
    const both = flow.block(async (x: number) => {
      const a = echo(x);
      return await times(a, 2);
    }, { name: "both" });
    expect(await times(echo(5), 4)).toBe(20);
    expect(await both(21)).toBe(42);
  });

  it("a non-zero exit gives ExecutableError with command, exitCode, signal, stdout, stderr", async () => {
    const flow = await engine();
    const fail = flow.executableTask(() => "echo out; echo err >&2; exit 3", { name: "fail" });
    const err = (await fail().catch((e: unknown) => e)) as ExecutableError;
    expect(err).toBeInstanceOf(ExecutableError);
    expect(err.name).toBe("ExecutableError");
    expect(err.command).toBe("echo out; echo err >&2; exit 3");
    expect(err.exitCode).toBe(3);
    expect(err.signal).toBeNull();
    expect(err.stdout).toBe("out\n");
    expect(err.stderr).toBe("err\n");
    expect(err.taskName).toBe("fail");
    expect(err.message).toMatch(/task\.000001 \(fail\): command .* exited with code 3\nerr/);
  });

  it("a process killed by a signal reports the signal; argv commands are kept as arrays", async () => {
    const flow = await engine();
    const kill = flow.executableTask(() => ["sh", "-c", "kill -9 $$"], { name: "kill" });
    const err = (await kill().catch((e: unknown) => e)) as ExecutableError;
    expect(err.signal).toBe("SIGKILL");
    expect(err.exitCode).toBeNull();
    expect(err.command).toEqual(["sh", "-c", "kill -9 $$"]);
  });

  it("a missing program fails with ExecutableError saying it could not start", async () => {
    const flow = await engine();
    const nope = flow.executableTask(() => ["/no/such/program"], { name: "nope" });
    const err = (await nope().catch((e: unknown) => e)) as ExecutableError;
    expect(err).toBeInstanceOf(ExecutableError);
    expect(err.message).toMatch(/could not start: .*ENOENT/);
  });

  it.each([[""], ["   "], [[]], [[""]]])("an empty command %j fails naming the task", async (cmd) => {
    const flow = await engine();
    const empty = flow.executableTask(() => cmd as string, { name: "emptyCmd" });
    const err = await empty().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTaskError);
    expect((err as Error).message).toMatch(/Task "emptyCmd": task\.000001 returned an empty command/);
  });

  it("a malformed command fails naming the task and the problem", async () => {
    const flow = await engine();
    const bad = flow.executableTask(() => 42 as unknown as string, { name: "bad" });
    await expect(bad()).rejects.toThrow(/Task "bad": task\.000001 must return a command .* got number/);
    const badArg = flow.executableTask(() => ["ls", 3] as unknown as string[], { name: "badArg" });
    await expect(badArg()).rejects.toThrow(/argv\[1\] is a number/);
  });

  it("honours cwd, env and timeout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine();
    const pwd = flow.executableTask(() => "pwd; echo $AF_X", { name: "pwd", cwd: dir, env: { AF_X: "hello" } });
    expect(await pwd()).toBe(`${dir}\nhello\n`);
    const slow = flow.executableTask(() => "sleep 5", { name: "slow", timeout: 100 });
    const err = (await slow().catch((e: unknown) => e)) as TaskTimeoutError;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err).toMatchObject({ what: "attempt", ms: 100, attempt: 1, signal: "SIGTERM", command: "sleep 5" });
    expect(err.cause).toBeInstanceOf(ExecutableError);
    expect(err.message).toMatch(/slow\): attempt 1 timed out after 100 ms/);
  });

  it("a command that ignores SIGTERM gets SIGKILL after the grace period, on a timeout and on a cancel", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine();
    // ignores SIGTERM (and so does the sleep it waits for), after writing its pid
    const stubborn = flow.executableTask((pidfile: string) => `trap '' TERM; echo $$ > ${pidfile}.tmp && mv ${pidfile}.tmp ${pidfile}; sleep 30`, { name: "stubborn", timeout: 300 });
    const err = (await stubborn(join(dir, "a")).catch((e: unknown) => e)) as TaskTimeoutError;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err).toMatchObject({ what: "attempt", ms: 300, signal: "SIGKILL" });
    expect(alive(Number(readFileSync(join(dir, "a"), "utf8")))).toBe(false);
    const held = flow.executableTask((pidfile: string) => `trap '' TERM; echo $$ > ${pidfile}.tmp && mv ${pidfile}.tmp ${pidfile}; sleep 30`, { name: "held" });
    const f = held(join(dir, "b"));
    await until(() => existsSync(join(dir, "b")));
    const pid = Number(readFileSync(join(dir, "b"), "utf8"));
    f.cancel();
    await until(() => !alive(pid), 10_000);
    expect(alive(pid)).toBe(false);
  });

  it("a command that cannot start says why, as an ExecutableError, and leaks no descriptor; a NUL byte is a malformed command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine({ workDir: dir });
    let built = 0;
    const nul = flow.executableTask(() => (built++, ["echo", "a\0b"]), { name: "nul", retries: 2, retryDelay: 1 });
    await expect(nul()).rejects.toThrow(/Task "nul": task\.\d+ returned a command whose argv\[1\] holds a NUL byte/);
    expect(built).toBe(1); // malformed: not retried
    const nulLine = flow.executableTask(() => "echo a\0b", { name: "nulLine", retries: 2, retryDelay: 1 });
    await expect(nulLine()).rejects.toThrow(/Task "nulLine": task\.\d+ returned a command that holds a NUL byte/);
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    // descriptors of this process open on files under `dir`: the capture files, if they leaked
    const openHere = (): string[] =>
      readdirSync("/proc/self/fd").flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(dir) ? [target] : [];
        } catch {
          return []; // closed meanwhile
        }
      });
    // thrown by spawn itself (ENOTDIR, E2BIG), where other failures come as its "error" event
    const inFile = flow.executableTask(() => ["pwd"], { name: "inFile", cwd: file, captureStdio: true });
    const huge = flow.executableTask(() => `true ${"x ".repeat(100_000)}`, { name: "huge", captureStdio: true });
    for (const t of [inFile, huge]) {
      const err = (await t().catch((e: unknown) => e)) as ExecutableError;
      expect(err).toBeInstanceOf(ExecutableError);
      expect(err.message).toMatch(/^task\.\d+ \((inFile|huge)\): command .* could not start: Error: spawn (ENOTDIR|E2BIG)/);
    }
    expect(openHere()).toEqual([]);
    const gone = flow.executableTask(() => ["ls"], { name: "gone", cwd: join(dir, "no-such-dir") });
    await expect(gone()).rejects.toThrow(/could not start: its working directory \S+no-such-dir does not exist$/);
  });

  it("a timeout reaches what the command left running when its leader is gone; output held open by a process that left the group is not waited for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine();
    // the leader echoes and exits; a background shell of its group waits, and says when SIGTERM reaches it
    const log = join(dir, "term.log");
    const left = flow.executableTask(() => `sh -c 'trap "echo got-TERM >> ${log}; exit 0" TERM; sleep 30 & wait' & echo started`, { name: "left", timeout: 300 });
    await expect(left()).rejects.toBeInstanceOf(TaskTimeoutError);
    await until(() => existsSync(log) && readFileSync(log, "utf8") === "got-TERM\n", 10_000);
    // a daemon (its own session) keeps the command's stdout: the timeout still ends the task
    const pidfile = join(dir, "daemon.pid");
    const daemon = flow.executableTask(() => `setsid sh -c 'echo $$ > ${pidfile}; exec sleep 60' & echo started`, { name: "daemon", timeout: 300 });
    try {
      await expect(daemon()).rejects.toBeInstanceOf(TaskTimeoutError);
    } finally {
      await until(() => existsSync(pidfile) && readFileSync(pidfile, "utf8").endsWith("\n"));
      process.kill(Number(readFileSync(pidfile, "utf8")), "SIGKILL");
    }
  });

  it("an ExecutableError's message carries the end of a long stderr line, not all of it (the field has all of it)", async () => {
    const flow = await engine();
    const bar = flow.executableTask(() => `printf 'progress %.0s\\r' $(seq 1 20000) >&2; echo ' failed at the end' >&2; exit 1`, { name: "bar" });
    const err = (await bar().catch((e: unknown) => e)) as ExecutableError;
    expect(err.stderr.length).toBeGreaterThan(100_000);
    expect(err.message.length).toBeLessThan(2_500);
    expect(err.message).toMatch(/failed at the end$/);
  });

  it("a timeout longer than setTimeout's 2^31 ms is a long timeout, not one of 1 ms", async () => {
    const flow = await engine();
    const ok = flow.executableTask(() => "sleep 0.2; echo ok", { name: "ok", timeout: 2 ** 31 });
    expect(await ok()).toBe("ok\n");
  });

  it("captureStdio writes <workDir>/<session>/<task>.stdout|.stderr and resolves to the stdout path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine({ workDir: dir, uid: "sess" });
    const cap = flow.executableTask(() => "echo to-out; echo to-err >&2", { name: "cap", captureStdio: true });
    const path = await cap();
    expect(path).toBe(join(dir, "sess", "task.000001.stdout"));
    expect(readFileSync(path, "utf8")).toBe("to-out\n");
    expect(readFileSync(join(dir, "sess", "task.000001.stderr"), "utf8")).toBe("to-err\n");
    const capFail = flow.executableTask(() => "echo bad >&2; exit 1", { name: "capFail", captureStdio: true });
    const err = (await capFail().catch((e: unknown) => e)) as ExecutableError;
    expect(err.stderr).toBe("bad\n");
  });

  it("cancelling a running process kills it and the future is CANCELLED", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const flow = await engine();
    const pidfile = join(dir, "pid");
    const go = join(dir, "go");
    const finished = join(dir, "finished");
    // writes its pid, then waits for the test's go file before it would touch `finished`
    const slow = flow.executableTask(() => `echo $$ > ${pidfile}.tmp && mv ${pidfile}.tmp ${pidfile}; until [ -e ${go} ]; do sleep 0.01; done; touch ${finished}`, { name: "slow" });
    const f = slow();
    await until(() => existsSync(pidfile));
    const pid = Number(readFileSync(pidfile, "utf8"));
    expect(f.state).toBe("RUNNING");
    expect(alive(pid)).toBe(true);
    f.cancel();
    expect(f.state).toBe("CANCELLED");
    await expect(f).rejects.toBeInstanceOf(TaskCancelledError);
    await until(() => !alive(pid), 10_000);
    expect(alive(pid)).toBe(false);
    // the shell is gone, so the go it waited for can no longer make it finish
    writeFileSync(go, "");
    expect(existsSync(finished)).toBe(false);
  });

  it("the command function runs in the task context", async () => {
    const flow = await engine();
    const who = flow.executableTask(() => `echo ${taskContext().uid}`, { name: "who" });
    expect(await who()).toBe("task.000001\n");
  });

  it("maxProcesses bounds concurrent processes", async () => {
    const { LocalBackend } = await import("../lib/index.js");
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const log = join(dir, "log");
    const go = join(dir, "go");
    const flow = await engine({ backend: new LocalBackend({ maxProcesses: 1 }) });
    // each logs its start, waits for the test's go file, then logs its end
    const step = flow.executableTask((n: string) => `echo start ${n} >> ${log}; until [ -e ${go} ]; do sleep 0.01; done; echo end ${n} >> ${log}`, { name: "step" });
    const a = step("a");
    const b = step("b");
    await until(() => existsSync(log));
    // a RUNNING report comes at spawn, so b, had it been spawned with a, would be RUNNING by the time a's shell has written
    expect([a.state, b.state]).toEqual(["RUNNING", "PENDING"]);
    writeFileSync(go, "");
    await Promise.all([a, b]);
    expect(readFileSync(log, "utf8")).toBe("start a\nend a\nstart b\nend b\n");
  });
});

describe("runCommand", () => {
  it("a signal aborted before the process starts kills it as it starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "af-"));
    const ran = join(dir, "ran");
    // `sleep 30` lets the kill land before `touch`; a process left to run would fail the test by its timeout
    const err = await runCommand({ uid: "task.000001", name: "late" }, `sleep 30; touch ${ran}`, { cwd: process.cwd(), signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutableError);
    expect((err as ExecutableError).signal).toBe("SIGTERM");
    expect(existsSync(ran)).toBe(false);
  });
});
