// The asyncflow command in-process (report, graph, usage errors), the bin as a process, and toDot/toMermaid on a real flow.graph().
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toDot, toMermaid } from "../lib/index.js";
import { runCli } from "../lib/cli/main.js";
import { engine } from "./helpers.js";
import { generateEvents, handEvents, toJsonl, type HandTask } from "./trace-gen.js";

const dir = mkdtempSync(join(tmpdir(), "af-cli-"));
const root = new URL("..", import.meta.url).pathname;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const err = (r: { code: number; err: string }): [number, string] => [r.code, r.err];
const out = (r: { code: number; out: string }): [number, string] => [r.code, r.out];

const DAG: HandTask[] = [
  { uid: "task.000001", name: "fetch", created: 0, started: 0, end: 10 },
  { uid: "task.000002", name: "parse", deps: ["task.000001"], created: 0.5, started: 10.2, end: 30 },
  { uid: "task.000003", name: "parse", deps: ["task.000001"], created: 0.6, started: 10.3, end: 14 },
  { uid: "task.000004", name: "merge", deps: ["task.000003", "task.000002"], created: 1, resolved: 30, started: 33, end: 40 },
  { uid: "task.000005", name: "boom", created: 1, started: 1, end: 2, state: "FAILED" },
  { uid: "task.000006", name: "after", deps: ["task.000005"], created: 1.5, end: 2.1, state: "FAILED", rootCause: "task.000005" },
];
const dagFile = join(dir, "dag.jsonl");
writeFileSync(dagFile, toJsonl(handEvents(DAG, "sess-1")));

describe("asyncflow report (terminal)", () => {
  it("prints the per-name table, the critical path and the failures", async () => {
    const r = await cli("report", dagFile);
    expect([r.code, r.err]).toEqual([0, ""]);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^session sess-1 \(pid 1 on h, backends local\): started .*, 6 tasks over 40\.0 ms, no SessionEnded/);
    expect(lines[2]).toMatch(/^name\s+count\s+done\s+failed\s+cancelled\s+retries\s+mean\s+p50\s+p95\s+wait mean\s+wait p50\s+wait p95$/);
    expect(lines.slice(3, 8).map((l) => l.split(/\s+/).slice(0, 4).join(" "))).toEqual(["parse 2 2 0", "fetch 1 1 0", "merge 1 1 0", "boom 1 0 1", "after 1 0 1"]);
    expect(r.out).toContain(
      [
        "critical path: 3 task(s), +0.000 s to +0.040 s (40.0 ms)",
        "  +0.000 s  fetch (task.000001)  function on local  ran 10.0 ms, waited 0.00 ms  DONE",
        "  +0.010 s  parse (task.000002)  function on local  ran 19.8 ms, waited 9.70 ms  DONE",
        "  +0.033 s  merge (task.000004)  function on local  ran 7.00 ms, waited 32.0 ms  DONE",
      ].join("\n"),
    );
    expect(r.out).toContain("failures: 2 (1 failed in their own body, 1 because a dependency failed)\n  +0.002 s  boom (task.000005): Error: task.000005 broke\n  1 task(s) did not run because boom (task.000005) failed\n");
  });

  it("--task tells a task's story: events with times, dependencies and when each finished, what it waited on longest", async () => {
    const r = await cli("report", dagFile, "--task", "task.000004");
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `merge (task.000004): function on local, DONE

events:
  time      event          attempt  detail
  +0.001 s  TaskCreated    1        depends on task.000003, task.000002
  +0.030 s  TaskResolved   1
  +0.030 s  TaskSubmitted  1
  +0.033 s  TaskStarted    1
  +0.040 s  TaskCompleted  1        ran 7.00 ms, waited 32.0 ms

dependencies:
  task                 state  finished           relative
  parse (task.000003)  DONE   finished +0.014 s  13.0 ms after this was made
  parse (task.000002)  DONE   finished +0.030 s  29.0 ms after this was made

waited longest on parse (task.000002), which finished 29.0 ms after this task was made; then 3.00 ms between ready and started on local
`,
    );
    const failed = await cli("report", dagFile, "--task", "task.000006");
    expect(failed.out).toContain("  error: DependencyFailureError: task.000006 broke\n  root cause: boom (task.000005)\n");
    expect(failed.out).toContain("; and never started");
    const unknown = await cli("report", dagFile, "--task", "task.999999");
    expect([unknown.code, unknown.err]).toEqual([1, `asyncflow report: trace ${dagFile}: session sess-1 has no task task.999999\n`]);
  });

  it("--session picks one session of a shared file; without it, the last, said on stderr", async () => {
    const file = join(dir, "two.jsonl");
    writeFileSync(file, toJsonl(handEvents(DAG, "sess-1")) + toJsonl(handEvents(DAG.slice(0, 2), "sess-2", 1_764_600_000_000)));
    const last = await cli("report", file);
    expect(last.err).toBe(`asyncflow report: ${file} holds 2 sessions (sess-1, sess-2); this is the last one, sess-2: pick another with --session ID\n`);
    expect(last.out).toMatch(/^session sess-2 .* 2 tasks/);
    const first = await cli("report", file, "--session", "sess-1");
    expect([first.err, first.out.split("\n")[0]]).toEqual(["", expect.stringMatching(/^session sess-1 .* 6 tasks/)]);
    const story = await cli("report", file, "--session", "sess-1", "--task", "task.000004");
    expect(story.out).toMatch(/^merge \(task\.000004\)/);
  });

  it("lists the backends' warnings and the stalls", async () => {
    const file = join(dir, "notices.jsonl");
    const events = handEvents(DAG.slice(0, 2), "sess-n");
    const at = events[0]!.time;
    events.push(
      { type: "BackendNotice", sessionId: "sess-n", time: at + 5, backend: "queue", level: "warn", message: "no worker serves queue etl" },
      { type: "BackendNotice", sessionId: "sess-n", time: at + 6, backend: "queue", level: "info", message: "connected" },
      {
        type: "FlowStalled",
        sessionId: "sess-n",
        time: at + 20,
        stalledMs: 15,
        tasks: [{ uid: "task.000002", name: "parse", kind: "function", state: "RUNNING", reason: "RUNNING", backend: "local", attempt: 1, ageMs: 20, inStateMs: 10, waitingFor: [] }],
      },
    );
    writeFileSync(file, toJsonl(events));
    const r = await cli("report", file);
    expect(r.out).toContain("\nbackend notices: 1\n  +0.005 s  queue warn: no worker serves queue etl\n\nstalls: 1\n  +0.020 s  nothing completed for 15.0 ms: parse (task.000002) RUNNING\n");
  });

  it("--html writes the page", async () => {
    const out = join(dir, "dag.html");
    const r = await cli("report", dagFile, "--html", out);
    expect(r.out).toMatch(new RegExp(`^wrote ${out}: 6 tasks of session sess-1, \\d+ kB\\n$`));
    // never over the trace it reads; a page that cannot be written is named as the page
    const before = readFileSync(dagFile, "utf8");
    expect(err(await cli("report", dagFile, "--html", dagFile))).toEqual([2, expect.stringMatching(/^asyncflow report: --html \S+dag\.jsonl is the trace it reads: give the page a name of its own\n/)]);
    expect(readFileSync(dagFile, "utf8")).toBe(before);
    expect(err(await cli("report", dagFile, "--html", "/no/such/dir/x.html"))).toEqual([1, expect.stringMatching(/^asyncflow report: page \/no\/such\/dir\/x\.html: cannot be written: Error: ENOENT/)]);
  });

  it("says what is wrong with a command line (exit 2) or a trace (exit 1), naming the file", async () => {
    expect(err(await cli("report"))).toEqual([2, expect.stringMatching(/^asyncflow report: a trace file is required\nusage: asyncflow report TRACE\.jsonl/)]);
    expect(err(await cli("report", dagFile, dagFile))).toEqual([2, expect.stringMatching(/^asyncflow report: a trace file is required, only one: got 2 \(\S+ \S+\)\n/)]);
    expect(err(await cli("report", dagFile, "--colour"))).toEqual([2, expect.stringMatching(/^asyncflow report: Unknown option '--colour'/)]);
    expect(err(await cli("report", dagFile, "--html", "x.html", "--task", "t"))).toEqual([2, expect.stringMatching(/--html and --task go separately/)]);
    const missing = join(dir, "missing.jsonl");
    expect(await cli("report", missing)).toEqual({ code: 1, out: "", err: `asyncflow report: trace ${missing}: no such file\n` });
    expect(err(await cli("graph", dagFile, "--format", "svg"))).toEqual([2, expect.stringMatching(/^asyncflow graph: --format is dot or mermaid, got "svg"/)]);
    expect(err(await cli("explode"))).toEqual([2, expect.stringMatching(/^asyncflow: unknown command "explode"\nusage: asyncflow <command>/)]);
    expect(err(await cli("reprot", dagFile))).toEqual([2, expect.stringMatching(/^asyncflow: unknown command "reprot" \(did you mean "report"\?\)\n/)]);
    expect(err(await cli("report", dagFile, "--htm", "x.html"))).toEqual([2, expect.stringMatching(/^asyncflow report: Unknown option '--htm' \(did you mean --html\?\)/)]);
    expect(err(await cli())).toEqual([2, expect.stringMatching(/^usage: asyncflow <command>/)]);
  });

  it("--help on the command and on report and graph", async () => {
    expect(out(await cli("--help"))).toEqual([0, expect.stringMatching(/^usage: asyncflow <command> \[options\]\n\ncommands:\n {2}report .*\n {2}graph .*\n {2}worker /)]);
    expect(out(await cli("report", "--help"))).toEqual([0, expect.stringMatching(/^usage: asyncflow report TRACE\.jsonl \[--html FILE\] \[--task UID\] \[--session ID\]\n/)]);
    expect(out(await cli("graph", "-h"))).toEqual([0, expect.stringMatching(/^usage: asyncflow graph TRACE\.jsonl \[--format dot\|mermaid\]/)]);
  });
});

describe("asyncflow graph", () => {
  it("prints DOT by default and Mermaid on request: a node per task coloured by state, an edge per dependency", async () => {
    const dot = await cli("graph", dagFile);
    expect(dot.code).toBe(0);
    expect(dot.out).toContain('  "task.000004" [label="merge\\ntask.000004\\nDONE", shape=box, fillcolor="#a5d6a7"];');
    expect(dot.out).toContain('  "task.000005" [label="boom\\ntask.000005\\nFAILED", shape=box, fillcolor="#ef9a9a"];');
    expect(dot.out.match(/ -> /g)).toHaveLength(5);
    expect(dot.out).toContain('  "task.000002" -> "task.000004";');
    const mermaid = await cli("graph", dagFile, "--format", "mermaid");
    expect(mermaid.out.split("\n").slice(0, 2)).toEqual(["flowchart LR", '  n0["fetch<br/>task.000001"]']);
    expect(mermaid.out).toContain("  n2 --> n3\n  n1 --> n3\n");
    expect(mermaid.out).toContain("  classDef failed fill:#ef9a9a,stroke:#555\n  class n4,n5 failed\n");
  });
});

describe("toDot / toMermaid", () => {
  it("take what flow.graph() returns, states as colours, kinds as shapes", async () => {
    const flow = await engine();
    const one = flow.functionTask(() => 1, { name: "one" });
    const bad = flow.functionTask((_x: number): number => {
      throw new Error("no");
    }, { name: "bad" });
    const sum = flow.block(async (x: number) => x + 1, { name: "wrap" });
    await sum(one());
    await expect(bad(one())).rejects.toThrow("no");
    const dot = toDot(flow.graph());
    expect(dot).toMatch(/^digraph asyncflow \{\n/);
    expect(dot).toMatch(/"task\.000001" \[label="one\\ntask\.000001\\nDONE", shape=box, fillcolor="#a5d6a7"\];/);
    expect(dot).toMatch(/"block\.000002" \[label="wrap\\nblock\.000002\\nDONE", shape=folder, fillcolor="#a5d6a7"\];/);
    expect(dot).toMatch(/"task\.000004" \[label="bad\\ntask\.000004\\nFAILED", shape=box, fillcolor="#ef9a9a"\];/);
    expect(dot).toContain('"task.000001" -> "block.000002";');
    const mermaid = toMermaid(flow.graph());
    expect(mermaid).toContain('[["wrap<br/>block.000002"]]');
    expect(mermaid).toMatch(/classDef failed fill:#ef9a9a,stroke:#555\n {2}class n\d+ failed/);
  });

  it("escape what would break the syntax: quotes and newlines in DOT, quotes and brackets in Mermaid", () => {
    const g = { nodes: () => ['a"b'], node: () => ({ name: 'say "hi"\n<x>', state: "PENDING", kind: "executable" }), edges: () => [] };
    expect(toDot(g)).toContain('"a\\"b" [label="say \\"hi\\"\\n<x>\\na\\"b\\nPENDING", shape=component, fillcolor="#e0e0e0"];');
    expect(toMermaid(g)).toContain('  n0[/"say #quot;hi#quot;\n#lt;x#gt;<br/>a#quot;b"/]');
  });
});

describe("the asyncflow bin", () => {
  const bin = join(root, "lib/cli/index.ts");
  const run = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", bin, ...args], { encoding: "utf8", env: { ...process.env, NODE_DEBUG: "esm" }, maxBuffer: 256 << 20 });

  it("reports without loading bullmq, piscina or the HTML code, and exits 1 naming a missing trace", () => {
    const r = run("report", dagFile);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^session sess-1/);
    expect(r.stderr).not.toMatch(/node_modules\/(bullmq|piscina|ioredis)/);
    expect(r.stderr).not.toMatch(/lib\/report\/html/);
    const missing = spawnSync(process.execPath, ["--import", "tsx", bin, "report", join(dir, "gone.jsonl")], { encoding: "utf8" });
    expect([missing.status, missing.stderr]).toEqual([1, `asyncflow report: trace ${join(dir, "gone.jsonl")}: no such file\n`]);
  });

  it("a reader that goes away (| head) ends the output, not the command: exit 0, nothing on stderr", () => {
    const big = join(dir, "big-pipe.jsonl");
    writeFileSync(big, toJsonl(generateEvents({ seed: 7, tasks: 3_000 })));
    const err = join(dir, "pipe.err");
    const r = spawnSync("bash", ["-c", `"$0" --import tsx "$1" graph "$2" 2>"$3" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`, process.execPath, bin, big, err], { encoding: "utf8" });
    expect([r.stdout, readFileSync(err, "utf8")]).toEqual(["0\n", ""]);
  });

  it('import "asyncflow" loads toDot/toMermaid of the report code and nothing else of it', () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(join(root, "lib/index.ts"))})`], {
      encoding: "utf8",
      env: { ...process.env, NODE_DEBUG: "esm" },
      // the loader's debug log carries every module's source map
      maxBuffer: 256 << 20,
    });
    expect(r.status, r.stderr).toBe(0);
    const loaded = [...new Set([...r.stderr.matchAll(/lib\/(report|cli)\/[\w/-]+/g)].map((m) => m[0]))];
    expect(loaded).toEqual(["lib/report/dot"]);
  });

  it("worker is the queue worker, through the same main(argv) as asyncflow-worker", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", bin, "worker", "--help"], { encoding: "utf8" });
    expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/^usage: asyncflow worker \[--connection URL/)]);
    const bad = spawnSync(process.execPath, ["--import", "tsx", bin, "worker"], { encoding: "utf8" });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/^asyncflow worker: no Redis: give --connection URL/)]);
  });
});

it("generated traces parse as the report expects (a seeded generator is deterministic)", () => {
  expect(toJsonl(generateEvents({ seed: 4, tasks: 200 }))).toBe(toJsonl(generateEvents({ seed: 4, tasks: 200 })));
});
