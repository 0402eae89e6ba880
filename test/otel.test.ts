/**
 * OpenTelemetry with the SDK's in-memory exporter: the span tree, attributes
 * and error status; and the trace context crossing to a worker thread and to
 * a queue worker process (real Redis), where a span the body starts has its
 * task's span as parent. This file registers a global tracer provider, so it
 * runs in a process of its own (vitest's forks pool).
 */
import { spawnSync } from "node:child_process";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalBackend, QueueBackend, ThreadBackend } from "../lib/index.js";
import type { SpanOrigin } from "./fixtures/otel-tasks.js";
import { carrierEnv } from "../lib/contract/tracecontext.js";
import { engine } from "./helpers.js";
import { startRedis, type RedisServer } from "./redis.js";
import { startAsyncflowWorker, stopWorkerProcess } from "./worker-process.js";

const exporter = new InMemorySpanExporter();
const otelTasks = new URL("./fixtures/otel-tasks.ts", import.meta.url);

beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  expect(found, `spans named ${name}: ${spans().map((s) => s.name).join(", ")}`).toHaveLength(1);
  return found[0]!;
};
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan): string => s.spanContext().spanId;

describe("OpenTelemetry spans", () => {
  it("session > workflow > block > task, with the event fields as attributes and failures as error status", async () => {
    exporter.reset();
    const flow = await engine();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const fail = flow.functionTask((): number => {
      throw new TypeError("broken");
    }, { name: "fail" });
    const blk = flow.block(async (x: number) => inc(await inc(x)), { name: "blk" });
    expect(await flow.workflowScope("nightly", () => blk(1))).toBe(3);
    await expect(inc(fail())).rejects.toThrow(/broken/);
    await flow.shutdown();

    const session = one("asyncflow session");
    expect(parentOf(session)).toBeUndefined();
    expect(session.attributes["asyncflow.session.id"]).toBe(flow.uid);
    const workflow = one("workflow nightly");
    expect(parentOf(workflow)).toBe(idOf(session));
    const block = one("blk");
    expect(parentOf(block)).toBe(idOf(workflow));
    const [inner1, inner2, outer] = named("inc");
    for (const s of [inner1!, inner2!]) {
      expect(parentOf(s)).toBe(idOf(block));
      expect(s.attributes).toMatchObject({ "asyncflow.task.name": "inc", "asyncflow.task.kind": "function", "asyncflow.task.backend": "local", "asyncflow.workflow.id": "nightly", "asyncflow.task.parent": "block.000001", "asyncflow.task.state": "DONE", "asyncflow.task.where": "local" });
      expect(s.status.code).toBe(1); // OK
      expect(s.events.map((e) => e.name)).toEqual(["resolved", "submitted", "started"]);
      expect(s.spanContext().traceId).toBe(session.spanContext().traceId);
    }
    expect(inner1!.attributes["asyncflow.task.uid"]).toBe("task.000002");
    const failed = one("fail");
    expect(parentOf(failed)).toBe(idOf(session));
    expect(failed.status).toEqual({ code: 2, message: "TypeError: broken" });
    expect(failed.events.find((e) => e.name === "exception")!.attributes).toMatchObject({ "exception.type": "TypeError", "exception.message": "broken" });
    expect(outer!.status.code).toBe(2);
    expect(outer!.attributes).toMatchObject({ "asyncflow.task.state": "FAILED", "asyncflow.task.root_cause.uid": failed.attributes["asyncflow.task.uid"], "asyncflow.task.root_cause.name": "fail" });
  });

  it("one span per workflow however far apart its tasks; none for a workflow named inside a block (its tasks are the block's)", async () => {
    exporter.reset();
    const flow = await engine();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    // one at a time: no task of the workflow is live between two awaits
    expect(await flow.workflowScope("seq", async () => (await inc(1)) + (await inc(2)) + (await inc(3)))).toBe(9);
    const blk = flow.block(async () => flow.workflowScope("inner", async () => (await inc(10)) + (await inc(20))), { name: "blk" });
    expect(await blk()).toBe(32);
    await flow.shutdown();
    const seq = one("workflow seq");
    const incs = named("inc");
    expect(incs.slice(0, 3).map(parentOf)).toEqual([idOf(seq), idOf(seq), idOf(seq)]);
    // the workflow's span ends with its last task, not at the session's end
    expect(seq.endTime).toEqual(incs[2]!.endTime);
    expect(named("workflow inner")).toEqual([]);
    expect(incs.slice(3).map(parentOf)).toEqual([idOf(one("blk")), idOf(one("blk"))]);
  });

  it("past 1,000 idle workflows the longest idle is ended (at its last task's end), before the session ends", async () => {
    exporter.reset();
    const flow = await engine();
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    for (let i = 0; i <= 1_000; i++) await flow.workflowScope(`w${i}`, () => inc(i));
    // 1,001 idle: w0 is ended, the others wait for more tasks or the session's end
    expect(named("workflow w0")).toHaveLength(1);
    expect(named("workflow w1")).toEqual([]);
    expect(one("workflow w0").endTime).toEqual(named("inc")[0]!.endTime);
    await flow.shutdown();
    expect(named("workflow w1")).toHaveLength(1);
  });

  it("retries are span events on the task's one span, with the attempt, the delay and the error", async () => {
    exporter.reset();
    const flow = await engine();
    let calls = 0;
    const flaky = flow.functionTask((): number => {
      if (++calls < 3) throw new RangeError(`attempt ${calls} failed`);
      return calls;
    }, { name: "flaky", retries: 3, retryDelay: 1 });
    expect(await flaky()).toBe(3);
    await flow.shutdown();
    const span = one("flaky");
    expect(span.events.map((e) => e.name)).toEqual(["resolved", "submitted", "started", "retry", "submitted", "started", "retry", "submitted", "started"]);
    const retries = span.events.filter((e) => e.name === "retry");
    expect(retries.map((e) => [e.attributes?.["asyncflow.task.attempt"], e.attributes?.["exception.message"]])).toEqual([
      [1, "attempt 1 failed"],
      [2, "attempt 2 failed"],
    ]);
    for (const e of retries) expect(e.attributes?.["asyncflow.retry.delay_ms"]).toEqual(expect.any(Number));
    expect(span.status.code).toBe(1);
    expect(span.attributes["asyncflow.task.attempt"]).toBe(3);
  });

  it("without a registered tracer provider, @opentelemetry/api is never loaded", () => {
    // A process of its own: this one registered a provider. The package is installed (a dev dependency).
    const script = `
      import { createRequire } from "node:module";
      import { WorkflowEngine } from "${new URL("../lib/index.ts", import.meta.url).pathname}";
      const flow = await WorkflowEngine.create({ handleSignals: false });
      const inc = flow.functionTask((x) => x + 1, { name: "inc" });
      flow.subscribe(() => {});
      await inc(inc(1));
      await flow.shutdown();
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes("@opentelemetry"));
      console.log(JSON.stringify(loaded));
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim()) as string[]).toEqual([]);
  });

  it("a span a local body starts is a child of its task's span", async () => {
    exporter.reset();
    const flow = await engine();
    const { innerSpan } = await import("./fixtures/otel-tasks.js");
    const work = flow.functionTask(innerSpan, { name: "work" });
    const origin = await work(1);
    await flow.shutdown();
    expect(origin.parentSpanId).toBe(idOf(one("work")));
  });

  it("an executable's process gets its task's span as TRACEPARENT", async () => {
    exporter.reset();
    const flow = await engine();
    const show = flow.executableTask(() => ["/bin/sh", "-c", 'echo "$TRACEPARENT"'], { name: "show" });
    const traceparent = (await show()).trim();
    await flow.shutdown();
    const task = one("show");
    expect(traceparent).toBe(`00-${task.spanContext().traceId}-${idOf(task)}-01`);
  });

  it("a span a worker thread's body starts is a child of its task's span", async () => {
    exporter.reset();
    const flow = await engine({ backend: [new LocalBackend(), new ThreadBackend({ maxThreads: 1 })] });
    const work = flow.functionTask((x: number): Promise<SpanOrigin> => Promise.resolve({ traceId: "", spanId: "", parentSpanId: undefined, x }), {
      name: "innerSpan",
      backend: "threads",
      module: otelTasks,
    });
    const origins = await Promise.all([work(1), work(2)]);
    await flow.shutdown();
    const tasks = named("innerSpan");
    expect(tasks).toHaveLength(2);
    for (const o of origins) {
      const task = tasks.find((t) => t.attributes["asyncflow.task.uid"] === `task.00000${o.x}`)!;
      expect(o.parentSpanId, "the body's span has the task's span as parent").toBe(idOf(task));
      expect(o.traceId).toBe(task.spanContext().traceId);
      expect(task.attributes["asyncflow.task.where"]).toMatch(/^thread \d+$/);
    }
  });

  describe("on a queue worker process (real Redis)", () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
    }, 30_000);
    afterAll(async () => {
      await redis?.stop();
    });

    it("a span a queue worker's body starts is a child of its task's span", async () => {
      exporter.reset();
      const worker = await startAsyncflowWorker(["--redis", redis.url, "--queue", "otel", "--module", otelTasks.pathname]);
      expect(worker.serving, worker.output).toBe(true);
      try {
        const flow = await engine({ backend: [new LocalBackend(), new QueueBackend({ connection: redis.url, queue: "otel" })] });
        const work = flow.functionTask((x: number): Promise<SpanOrigin> => Promise.resolve({ traceId: "", spanId: "", parentSpanId: undefined, x }), {
          name: "innerSpan",
          backend: "queue",
          module: otelTasks,
        });
        const origin = await work(1);
        await flow.shutdown();
        const task = one("innerSpan");
        expect(origin.parentSpanId, "the body's span has the task's span as parent").toBe(idOf(task));
        expect(origin.traceId).toBe(task.spanContext().traceId);
      } finally {
        await stopWorkerProcess(worker.child);
      }
    });

    it("an executable run by a queue worker gets its task's span as TRACEPARENT", async () => {
      exporter.reset();
      const worker = await startAsyncflowWorker(["--redis", redis.url, "--queue", "otel-exec", "--allow-exec"]);
      expect(worker.serving, worker.output).toBe(true);
      try {
        const flow = await engine({ backend: [new LocalBackend(), new QueueBackend({ connection: redis.url, queue: "otel-exec" })] });
        const show = flow.executableTask(() => ["/bin/sh", "-c", 'echo "$TRACEPARENT"'], { name: "show", backend: "queue" });
        const traceparent = (await show()).trim();
        await flow.shutdown();
        const task = one("show");
        expect(traceparent).toBe(`00-${task.spanContext().traceId}-${idOf(task)}-01`);
      } finally {
        await stopWorkerProcess(worker.child);
      }
    });
  });
});

describe("carrierEnv", () => {
  it("sets TRACEPARENT and TRACESTATE only, whatever else a carrier that crossed Redis holds", () => {
    expect(carrierEnv({ traceparent: "00-a-b-01", tracestate: "k=v", ld_preload: "/tmp/x.so", path: "/tmp" })).toEqual({ TRACEPARENT: "00-a-b-01", TRACESTATE: "k=v" });
  });
});
