// The trace reader, the model, the critical path and the statistics, on hand-made DAGs with known answers and seeded traces.
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TraceFileError } from "../lib/index.js";
import { criticalPath } from "../lib/report/critical.js";
import { loadTrace } from "../lib/report/load.js";
import { statsByName } from "../lib/report/stats.js";
import { generateEvents, handEvents, toJsonl, type HandTask } from "./trace-gen.js";

const dir = mkdtempSync(join(tmpdir(), "af-report-"));
let files = 0;
function traceFile(text: string): string {
  const file = join(dir, `t${files++}.jsonl`);
  writeFileSync(file, text);
  return file;
}
async function pathOf(tasks: HandTask[]): Promise<string[]> {
  const { session } = await loadTrace(traceFile(toJsonl(handEvents(tasks))));
  return criticalPath(session).map((t) => t.uid);
}

describe("critical path", () => {
  it("follows the dependency that finished last (diamond)", async () => {
    expect(
      await pathOf([
        { uid: "a", created: 0, started: 0, end: 10 },
        // on another backend, so that no backend slot explains d's start
        { uid: "b", deps: ["a"], created: 0, started: 10, end: 30, backend: "threads" },
        { uid: "c", deps: ["a"], created: 0, started: 10, end: 15 },
        { uid: "d", deps: ["b", "c"], created: 0, started: 30, end: 40 },
      ]),
    ).toEqual(["a", "b", "d"]);
  });

  it("takes the chain that ends last, not the one with more tasks", async () => {
    expect(
      await pathOf([
        { uid: "y1", created: 0, started: 0, end: 20 },
        { uid: "y2", deps: ["y1"], created: 0, started: 20, end: 30 },
        { uid: "y3", deps: ["y2"], created: 0, started: 30, end: 35 },
        { uid: "x1", created: 0, started: 0, end: 5 },
        { uid: "x2", deps: ["x1"], created: 0, started: 5, end: 50 },
      ]),
    ).toEqual(["x1", "x2"]);
  });

  it("goes through the task whose end freed the backend slot a queued task waited for", async () => {
    expect(
      await pathOf([
        { uid: "p", created: 0, started: 0, end: 20 },
        { uid: "other", created: 0, started: 0, end: 8, backend: "threads" },
        { uid: "q", created: 0, resolved: 0, started: 20, end: 25 },
      ]),
    ).toEqual(["p", "q"]);
  });

  it("inside a block: the child that ended last, what its body awaited before, then the block's dependents", async () => {
    expect(
      await pathOf([
        { uid: "B", kind: "block", created: 0, started: 0, end: 50 },
        { uid: "x", parent: "B", created: 1, started: 1, end: 20 },
        { uid: "z", parent: "B", created: 1, started: 1, end: 5 },
        // made after the body awaited x, without taking its result
        { uid: "y", parent: "B", created: 21, started: 21, end: 49 },
        { uid: "w", deps: ["B"], created: 0, started: 50, end: 60 },
      ]),
    ).toEqual(["B", "x", "y", "w"]);
  });

  it("ends with a task that never ran because its dependency failed", async () => {
    expect(
      await pathOf([
        { uid: "a", created: 0, started: 0, end: 10, state: "FAILED" },
        { uid: "b", deps: ["a"], created: 0, end: 10.5, state: "FAILED" },
        { uid: "c", created: 0, started: 0, end: 4 },
      ]),
    ).toEqual(["a", "b"]);
  });

  it("is empty when no task finished, and covers the run on a seeded trace", async () => {
    expect(await pathOf([])).toEqual([]);
    const { session } = await loadTrace(traceFile(toJsonl(generateEvents({ seed: 3, tasks: 2000 }))));
    const path = criticalPath(session);
    const ends = [...session.tasks.values()].map((t) => t.end ?? 0);
    expect(Math.max(...path.map((t) => t.end!))).toBe(Math.max(...ends));
    // each task of the chain (blocks aside) starts once the one before it ended
    const leaves = path.filter((t) => t.kind !== "block");
    for (let i = 1; i < leaves.length; i++) expect(leaves[i]!.started ?? leaves[i]!.end!).toBeGreaterThanOrEqual(leaves[i - 1]!.end!);
    expect(leaves.length).toBeGreaterThan(10);
  });
});

describe("statistics per name", () => {
  it("counts, mean, nearest-rank p50 and p95 of durations and waits, failures and retries", async () => {
    const tasks: HandTask[] = [];
    for (let i = 1; i <= 20; i++) tasks.push({ uid: `f${i}`, name: "f", created: 0, started: i, end: i + i * 10, retries: i === 3 ? [i + 1] : [] });
    tasks.push({ uid: "g1", name: "g", created: 0, started: 0, end: 5, state: "FAILED" });
    tasks.push({ uid: "g2", name: "g", deps: ["g1"], created: 0, end: 5.1, state: "FAILED" });
    tasks.push({ uid: "g3", name: "g", created: 0, end: 1, state: "CANCELLED" });
    const { session } = await loadTrace(traceFile(toJsonl(handEvents(tasks))));
    const [f, g] = statsByName(session);
    expect(f).toMatchObject({ name: "f", count: 20, done: 20, failed: 0, retries: 1, duration: { mean: 105, p50: 100, p95: 190, max: 200 }, wait: { mean: 10.5, p50: 10, p95: 19 } });
    expect(g).toMatchObject({ name: "g", count: 3, done: 0, failed: 2, cancelled: 1, duration: { mean: 5 }, wait: { p50: 0 } });
  });
});

describe("reading a trace", () => {
  const two = (): string => toJsonl(generateEvents({ seed: 1, tasks: 50, sessionId: "first" })) + toJsonl(generateEvents({ seed: 2, tasks: 70, sessionId: "second", start: 1_764_600_000_000 }));

  it("tolerates a torn last line: every complete event is read and the tear is noted", async () => {
    const whole = toJsonl(generateEvents({ seed: 5, tasks: 100 }));
    const lines = whole.trimEnd().split("\n");
    const file = traceFile(whole + lines[5]!.slice(0, 40));
    const trace = await loadTrace(file);
    expect(trace.read).toMatchObject({ events: lines.length, tornLastLine: true, skippedCount: 0 });
    expect(trace.session.tasks.size).toBe(100);
    expect(trace.notes).toContain("the last line was cut short (the writer was killed mid-write) and is left out");
  });

  it("recovers the next session's first event glued to a torn line in the middle", async () => {
    const a = toJsonl(generateEvents({ seed: 1, tasks: 30, sessionId: "killed" }));
    const file = traceFile(a + '{"type":"TaskStarted","time":1764500000123.5,"sessionId":"killed","taskId":"task.0000');
    appendFileSync(file, toJsonl(generateEvents({ seed: 2, tasks: 40, sessionId: "next" })));
    const trace = await loadTrace(file);
    expect(trace.sessionIds).toEqual(["killed", "next"]);
    expect(trace.session.start?.sessionId).toBe("next");
    expect(trace.session.tasks.size).toBe(40);
    expect(trace.read.skippedCount).toBe(0);
  });

  it("with several sessions: the last by default, saying so; --session picks another; an unknown one is an error naming them", async () => {
    const file = traceFile(two());
    const last = await loadTrace(file);
    expect([last.session.sessionId, last.session.tasks.size]).toEqual(["second", 70]);
    expect(last.notes[0]).toBe(`${file} holds 2 sessions (first, second); this is the last one, second: pick another with --session ID`);
    const first = await loadTrace(file, { session: "first" });
    expect([first.session.sessionId, first.session.tasks.size, first.notes]).toEqual(["first", 50, []]);
    await expect(loadTrace(file, { session: "third" })).rejects.toThrow(new TraceFileError(file, 'holds no session "third"; it holds first, second'));
  });

  it("keeps the sessions apart when their events interleave and their uids repeat", async () => {
    const mixed = [...generateEvents({ seed: 1, tasks: 50, sessionId: "a" }), ...generateEvents({ seed: 2, tasks: 50, sessionId: "b" })].sort((x, y) => x.time - y.time);
    const trace = await loadTrace(traceFile(toJsonl(mixed)), { session: "a" });
    expect(trace.session.tasks.size).toBe(50);
    expect([...trace.session.tasks.values()].every((t) => t.end !== undefined)).toBe(true);
  });

  it("names the file when it is missing, a directory, empty or not a trace; counts lines that are no event", async () => {
    const missing = join(dir, "nope.jsonl");
    await expect(loadTrace(missing)).rejects.toThrow(`trace ${missing}: no such file`);
    await expect(loadTrace(missing)).rejects.toBeInstanceOf(TraceFileError);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    await expect(loadTrace(sub)).rejects.toThrow(`trace ${sub}: is a directory, not a trace file`);
    const empty = traceFile("");
    await expect(loadTrace(empty)).rejects.toThrow(`trace ${empty}: is empty`);
    const text = traceFile("hello\nworld\n");
    await expect(loadTrace(text)).rejects.toThrow(`trace ${text}: holds no asyncflow event in its 2 line(s)`);
    const noisy = traceFile(toJsonl(generateEvents({ seed: 9, tasks: 5 })).replace("\n", "\nnot json\n"));
    const trace = await loadTrace(noisy);
    expect(trace.read.skipped).toEqual([2]);
    expect(trace.notes).toContain("1 line(s) are not events and were skipped (line 2)");
  });
});
