// `asyncflow report` and `asyncflow graph` on a trace the engine itself wrote (not a generated one): what the events carry is what the report needs.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../lib/cli/main.js";
import { captureStderr, engine, gate, until } from "./helpers.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe("the report on a trace written by the engine", () => {
  it("calls that shared one failed cached execution count once as its body's failure; names with control characters are printed escaped", async () => {
    captureStderr();
    const file = join(mkdtempSync(join(tmpdir(), "af-report-engine-")), "run.jsonl");
    const flow = await engine({ trace: file });
    let bodies = 0;
    const fetch = flow.functionTask(
      async (url: string): Promise<string> => {
        bodies++;
        throw new Error(`${url} is down`);
      },
      { name: "fetch\n\u001b[31mred", cache: true },
    );
    const calls = [fetch("a"), fetch("a"), fetch("a")];
    await Promise.allSettled(calls);
    await flow.shutdown();
    expect(bodies).toBe(1);
    const r = await cli("report", file);
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(r.out).toMatch(/failures: 3 \(1 failed in their own body, 2 shared a cached execution that failed, 0 because a dependency failed\)\n {2}\+[\d.]+ s {2}fetch\\n\\u001b\[31mred \(task\.000001\): Error: a is down\n/);
    expect(r.out).not.toContain("\u001b");
    expect(r.out.split("\n").find((l) => l.startsWith("fetch"))).toMatch(/^fetch\\n\\u001b\[31mred +3 +0 +3 /);
  });

  it("table, critical path, retries and failures; a task's story; the graph", async () => {
    captureStderr();
    const file = join(mkdtempSync(join(tmpdir(), "af-report-engine-")), "run.jsonl");
    const flow = await engine({ trace: file });
    const slowGate = gate<number>();
    const fetch = flow.functionTask(async function fetch() {
      return 1;
    });
    const parse = flow.functionTask(async function parse(x: number, held?: Promise<number>) {
      return x + (held === undefined ? 0 : await held);
    });
    const merge = flow.functionTask(function merge(a: number, b: number) {
      return a + b;
    });
    let tries = 0;
    const flaky = flow.functionTask(
      function flaky() {
        if (++tries < 2) throw new RangeError("first try fails");
        return tries;
      },
      { retries: 1, retryDelay: 1 },
    );
    const boom = flow.functionTask(function boom(): number {
      throw new TypeError("no digits");
    });
    const after = flow.functionTask(function after(x: number) {
      return x;
    });
    const f = fetch();
    const quick = parse(f);
    const slow = parse(f, slowGate.promise);
    const m = merge(quick, slow);
    await until(() => quick.done() && slow.state === "RUNNING");
    slowGate.open(10);
    expect(await m).toBe(12);
    expect(await flaky()).toBe(2);
    const failed = after(boom());
    await expect(failed).rejects.toThrow(/no digits/);
    await flow.shutdown();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThan(20);

    const r = await cli("report", file);
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(r.out).toMatch(new RegExp(`^session ${flow.uid} \\(pid ${process.pid} on \\S+, backends local\\): started .*, 7 tasks over `));
    const row = (name: string): string[] => r.out.split("\n").find((l) => l.startsWith(`${name} `))!.split(/\s+/);
    // name count done failed cancelled retries
    expect(row("parse").slice(0, 6)).toEqual(["parse", "2", "2", "0", "0", "0"]);
    expect(row("flaky").slice(0, 6)).toEqual(["flaky", "1", "1", "0", "0", "1"]);
    expect(row("boom").slice(0, 6)).toEqual(["boom", "1", "0", "1", "0", "0"]);
    expect(row("after").slice(0, 6)).toEqual(["after", "1", "0", "1", "0", "0"]);
    // the critical path of the fetch -> parse -> merge part runs through the parse that waited on the gate
    const path = r.out.slice(r.out.indexOf("critical path:"));
    expect(path).toMatch(/critical path: \d+ task\(s\)/);
    expect(r.out).toMatch(/failures: 2 \(1 failed in their own body, 1 because a dependency failed\)\n {2}\+[\d.]+ s {2}boom \(task\.\d+\): TypeError: no digits\n {2}1 task\(s\) did not run because boom \(task\.\d+\) failed/);

    const story = await cli("report", file, "--task", m.uid);
    expect(story.code).toBe(0);
    expect(story.out).toMatch(new RegExp(`^merge \\(${m.uid.replace(".", "\\.")}\\): function on local, DONE`));
    for (const type of ["TaskCreated", "TaskResolved", "TaskSubmitted", "TaskStarted", "TaskCompleted"]) expect(story.out).toContain(type);
    expect(story.out).toContain(quick.uid);
    expect(story.out).toContain(slow.uid);
    // what it waited on longest: the gated parse
    expect(story.out).toMatch(new RegExp(`waited longest on parse \\(${slow.uid.replace(".", "\\.")}\\)`));
    // where it ran is the backend's name itself: said once
    expect(story.out).toMatch(/between ready and started on local\n/);
    expect(story.out).not.toContain("ran on local");

    const dot = await cli("graph", file);
    expect(dot.code).toBe(0);
    expect(dot.out).toContain(`"${f.uid}" -> "${quick.uid}"`);
    expect(dot.out).toContain(`"${slow.uid}" -> "${m.uid}"`);
  });
});
