/**
 * The trace file, written by real child processes: interrupted by SIGINT
 * or SIGTERM (every event up to the signal, then the shutdown's cancellations),
 * SIGKILLed (everything older than about a second), exiting without a
 * shutdown, and several sessions appending to one file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FlowEvent, TaskEvent } from "../lib/index.js";
import { expectLifecycleOrder } from "./events-check.js";
import { engine, until } from "./helpers.js";

const fixture = new URL("./fixtures/trace-run.ts", import.meta.url).pathname;
const tracePath = (): string => join(mkdtempSync(join(tmpdir(), "af-trace-")), "run.jsonl");
const read = (path: string): FlowEvent[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as FlowEvent);

function run(mode: string, trace: string): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ASYNCFLOW_TRACE: trace } });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  return { child, out: () => out, exited };
}

const ofType = (events: FlowEvent[], type: FlowEvent["type"]): TaskEvent[] => events.filter((e) => e.type === type) as TaskEvent[];

describe("trace file", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s mid-run: every event up to the signal, then a TaskCanceled for each task the shutdown cancelled", async (signal, code) => {
    const path = tracePath();
    const p = run("signal", path);
    await until(() => p.out().includes("ready"), 15_000);
    expect(p.out()).toContain("ready");
    p.child.kill(signal);
    expect(await p.exited, p.out()).toBe(code);
    const events = read(path);
    expect(events[0]).toMatchObject({ type: "SessionStarted", pid: p.child.pid, backends: ["local"] });
    expect(events.at(-1)).toMatchObject({ type: "SessionEnded" });
    expectLifecycleOrder(events);
    expect(ofType(events, "TaskCreated")).toHaveLength(50 + 20 + 20);
    expect(ofType(events, "TaskCompleted")).toHaveLength(50);
    const canceled = ofType(events, "TaskCanceled") as Extract<FlowEvent, { type: "TaskCanceled" }>[];
    expect(canceled).toHaveLength(40);
    expect(canceled.filter((e) => e.name === "hang").every((e) => e.reason === "the engine is shutting down")).toBe(true);
    expect(ofType(events, "TaskStarted").filter((e) => e.name === "hang")).toHaveLength(20);
  });

  it("SIGKILL: everything older than about a second is in the file", async () => {
    const path = tracePath();
    const p = run("stream", path);
    const done = (): { uid: string; at: number }[] =>
      p
        .out()
        .split("\n")
        .filter((l) => l.startsWith("done "))
        .map((l) => l.split(" "))
        .map(([, uid, at]) => ({ uid: uid!, at: Number(at) }));
    // The flush interval is one second; on a loaded machine give the timer as much again, and more.
    const MARGIN = 2500;
    const older = (before: number) => done().filter((d) => d.at < before - MARGIN);
    await until(() => older(Date.now()).length >= 10, 60_000);
    const killedAt = Date.now();
    p.child.kill("SIGKILL");
    await p.exited;
    const completed = new Set(ofType(read(path), "TaskCompleted").map((e) => e.taskId));
    const old = older(killedAt);
    expect(old.length).toBeGreaterThanOrEqual(10);
    expect(old.filter((d) => !completed.has(d.uid))).toEqual([]);
    expect(completed.size).toBeLessThanOrEqual(done().length + 1);
  }, 90_000);

  it("a process that exits without shutting down still flushes its events", async () => {
    const path = tracePath();
    const p = run("exit", path);
    expect(await p.exited, p.out()).toBe(0);
    const events = read(path);
    expect(ofType(events, "TaskCompleted")).toHaveLength(50);
    expect(ofType(events, "TaskStarted").filter((e) => e.name === "hang")).toHaveLength(20);
    expect(events.some((e) => e.type === "SessionEnded")).toBe(false);
  });

  it("several sessions append to one file; each line is one whole event", async () => {
    const path = tracePath();
    const runs = [run("exit", path), run("exit", path)];
    for (const p of runs) expect(await p.exited).toBe(0);
    const a = await engine({ trace: path });
    const inc = a.functionTask((x: number) => x + 1, { name: "inc" });
    expect(await inc(1)).toBe(2);
    await a.shutdown();
    const events = read(path);
    const sessions = new Set(events.map((e) => e.sessionId));
    expect(sessions.size).toBe(3);
    for (const id of sessions) if (id !== a.uid) expect(events.filter((e) => e.sessionId === id && e.type === "TaskCompleted")).toHaveLength(50);
    expect(events.filter((e) => e.sessionId === a.uid).map((e) => e.type)).toEqual([
      "SessionStarted", "TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskCompleted", "SessionEnded",
    ]);
  });

  it("a trace file that cannot be opened fails create() naming the file", async () => {
    await expect(engine({ trace: "/nonexistent-dir/run.jsonl" })).rejects.toThrow(/option `trace`: cannot open "\/nonexistent-dir\/run.jsonl" for appending/);
  });
});
