import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import type { FlowEvent, TaskCreated } from "../lib/index.js";
import { captureStderr, engine, tick } from "./helpers.js";

async function observed(options: Parameters<typeof engine>[0] = {}) {
  const flow = await engine(options);
  const created = new Map<string, TaskCreated>();
  const events: FlowEvent[] = [];
  flow.subscribe((e) => {
    events.push(e);
    if (e.type === "TaskCreated") created.set(e.taskId, e);
  });
  return { flow, created, events };
}

describe("workflowScope", () => {
  it("interleaved concurrent scopes never mix, at any async depth", async () => {
    const { flow, created } = await observed();
    const inc = flow.functionTask(async (x: number) => x + 1, { name: "inc" });
    const mine = new Map<string, string[]>();
    const run = (id: string, n: number) =>
      flow.workflowScope(id, async (got) => {
        expect(got).toBe(id);
        const uids: string[] = [];
        for (let i = 0; i < n; i++) {
          const f = inc(i);
          uids.push(f.uid);
          await f; // the other scopes make tasks meanwhile
          await tick();
          const [g] = await Promise.resolve().then(() => [inc(inc(i))]);
          uids.push(g!.uid);
          await g;
        }
        mine.set(id, uids);
      });
    await Promise.all([run("a", 20), run("b", 20), run("c", 20)]);
    for (const [id, uids] of mine) for (const uid of uids) expect(created.get(uid)!.workflowId, uid).toBe(id);
    // tasks made inside inc(inc(i)) by the inner call too
    const byWorkflow = [...created.values()].reduce<Record<string, number>>((n, e) => ({ ...n, [e.workflowId!]: (n[e.workflowId!] ?? 0) + 1 }), {});
    expect(byWorkflow).toEqual({ a: 60, b: 60, c: 60 });
  });

  it("generates an id when given undefined, and passes it to fn; outside any scope there is none", async () => {
    const { flow, created } = await observed();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const id = await flow.workflowScope(undefined, async (wf) => {
      await inc(1);
      return wf;
    });
    expect(id).toMatch(/^workflow\.[0-9a-f]{8}$/);
    expect(created.get("task.000001")!.workflowId).toBe(id);
    await inc(2);
    expect(created.get("task.000002")!.workflowId).toBeUndefined();
    expect(() => flow.workflowScope("", () => 1)).toThrow(/non-empty string/);
  });

  it("a block inside a named scope carries it to its children, and a scope opened inside a block body names what is made there", async () => {
    const { flow, created } = await observed();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const blk = flow.block(async (x: number) => {
      const a = await inc(x); // task in the block's scope
      return flow.workflowScope("inner", async () => inc(a)); // a named scope inside the body
    }, { name: "blk" });
    expect(await flow.workflowScope("nightly", () => blk(1))).toBe(3);
    expect(await blk(10)).toBe(12); // outside any named scope: the block's uid
    expect(created.get("block.000001")).toMatchObject({ workflowId: "nightly" });
    expect(created.get("task.000002")).toMatchObject({ workflowId: "nightly", parent: "block.000001" });
    expect(created.get("task.000003")).toMatchObject({ workflowId: "inner", parent: "block.000001" });
    expect(created.get("block.000004")).toMatchObject({ workflowId: "block.000004" });
    expect(created.get("task.000005")).toMatchObject({ workflowId: "block.000004", parent: "block.000004" });
    expect(created.get("task.000006")).toMatchObject({ workflowId: "inner", parent: "block.000004" });
  });

  it("a block made ready by another scope's task still scopes its body by its own workflow", async () => {
    const { flow, created } = await observed();
    const inc = flow.functionTask(async (x: number) => x + 1, { name: "inc" });
    const blk = flow.block(async (x: number) => inc(x), { name: "blk" });
    // blk (scope b) waits on a task of scope a: it is dispatched from a's completion
    const first = flow.workflowScope("a", () => inc(1));
    const second = flow.workflowScope("b", () => blk(first));
    expect(await second).toBe(3);
    expect(created.get("block.000002")!.workflowId).toBe("b");
    expect(created.get("task.000003")).toMatchObject({ workflowId: "b", parent: "block.000002" });
  });
});

describe("correlated logs", () => {
  it("a pino logger receives every line with the session, task and workflow", async () => {
    const out: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n")) if (line !== "") out.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: "debug" }, sink);
    const { flow } = await observed({ logger });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const blk = flow.block(async (x: number) => inc(inc(x)), { name: "blk" });
    await flow.workflowScope("nightly", async () => blk(1));
    // the lines of retries, of the cache and of a listener that throws name the workflow too
    let calls = 0;
    const flaky = flow.functionTask((x: number) => {
      if (++calls === 1) throw new Error("first attempt fails");
      return x;
    }, { name: "flaky", retries: 2, retryDelay: 1 });
    const picky = flow.functionTask((): number => {
      throw new Error("always");
    }, { name: "picky", retries: 1, retryOn: () => {
      throw new Error("retryOn bug");
    } });
    const cached = flow.functionTask((x: number) => x, { name: "cached", cache: true });
    const off = flow.subscribe((e) => {
      if (e.type === "TaskStarted" && e.name === "flaky") throw new Error("listener bug");
    });
    await flow.workflowScope("nightly", async () => Promise.allSettled([flaky(1), picky(), cached(1).then(() => cached(1))]));
    off();
    await flow.shutdown();
    await new Promise((r) => setImmediate(r));
    expect(out.length).toBeGreaterThan(10);
    for (const line of out) expect(line).toMatchObject({ sessionId: flow.uid, level: expect.any(Number) as number, msg: expect.any(String) as string });
    const aboutTasks = out.filter((l) => l.taskId !== undefined);
    expect(aboutTasks.length).toBeGreaterThan(8);
    for (const line of aboutTasks) expect(line.workflowId, String(line.msg)).toBe("nightly");
    expect(out.find((l) => l.taskId === "task.000002" && /registered/.test(String(l.msg)))!.msg).toBe(
      "inc: registered in block block.000001 (blk), no dependencies",
    );
    expect(out.some((l) => l.taskId === "task.000003" && /registered in block block\.000001 \(blk\), dependencies task\.000002/.test(String(l.msg)))).toBe(true);
    for (const said of [/^flaky: attempt 1 failed/, /^picky: retryOn threw/, /^cached: cached$/, /^an event listener threw on TaskStarted/]) {
      expect(aboutTasks.filter((l) => said.test(String(l.msg))).length, String(said)).toBeGreaterThan(0);
    }
  });

  it("an executable logs its command at debug, naming its task and workflow", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = { level: "debug", debug: (f: object, msg: string) => lines.push({ ...f, msg }), info() {}, warn() {}, error() {} };
    const { flow } = await observed({ logger });
    const echo = flow.executableTask((word: string) => ["/bin/echo", word], { name: "echo" });
    expect(await flow.workflowScope("wf-cmd", () => echo("hi"))).toBe("hi\n");
    expect(lines).toContainEqual({ sessionId: flow.uid, taskId: "task.000001", workflowId: "wf-cmd", msg: 'echo: command ["/bin/echo","hi"]' });
  });

  it("ASYNCFLOW_LOG_FORMAT=json writes one JSON object per line with the correlation fields", async () => {
    const err = captureStderr();
    vi.stubEnv("ASYNCFLOW_LOG_FORMAT", "json");
    vi.stubEnv("ASYNCFLOW_LOG_LEVEL", "debug");
    try {
      const { flow } = await observed();
      const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
      await flow.workflowScope("wf-1", () => inc(1));
      await flow.shutdown();
      const lines = err.text().trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBeGreaterThan(4);
      for (const l of lines) {
        expect(Object.keys(l).slice(0, 4)).toEqual(["level", "time", "msg", "sessionId"]);
        expect(l.sessionId).toBe(flow.uid);
      }
      expect(lines.filter((l) => l.taskId === "task.000001").every((l) => l.workflowId === "wf-1")).toBe(true);
      expect(lines.some((l) => l.level === "debug" && l.msg === "inc: DONE")).toBe(true);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
