import { describe, expect, it } from "vitest";
import {
  EngineShutdownError,
  InvalidOptionsError,
  InvalidTaskError,
  LocalBackend,
  NoopBackend,
  WorkflowEngine,
} from "../lib/index.js";
import { engine, gate, tick } from "./helpers.js";

describe("WorkflowEngine options", () => {
  it("defaults: a LocalBackend named local, a session uid, cwd as workDir", async () => {
    const flow = await engine();
    expect(flow.backends).toEqual(["local"]);
    expect(flow.uid).toMatch(/^asyncflow\.session\.[0-9a-f]{8}$/);
    expect(flow.workDir).toBe(process.cwd());
  });

  it("rejects bad options naming the option, the expectation and what was received", async () => {
    await expect(WorkflowEngine.create({ history: -1 })).rejects.toThrow(InvalidOptionsError);
    await expect(WorkflowEngine.create({ history: -1 })).rejects.toThrow(/option `history`: .*got `-1` \(number\)/);
    await expect(WorkflowEngine.create({ nope: 1 } as never)).rejects.toThrow(/unknown option `nope`/);
    await expect(WorkflowEngine.create({ backend: {} as never })).rejects.toThrow(/expected an execution backend/);
    await expect(WorkflowEngine.create({ backend: [new LocalBackend(), new LocalBackend()] })).rejects.toThrow(
      /two backends are named "local"/,
    );
    await expect(WorkflowEngine.create({ backend: new LocalBackend({ concurrency: 0 }), handleSignals: false })).rejects.toThrow(
      /LocalBackend: option `concurrency`: .*got `0` \(number\)/,
    );
  });

  it("a backend that fails to start fails create() naming it, and the others are shut down", async () => {
    const broken = new NoopBackend({ name: "broken" });
    broken.attach = () => {
      throw new Error("no route to host");
    };
    let shutdowns = 0;
    const other = new NoopBackend({ name: "other" });
    other.shutdown = async () => void shutdowns++;
    await expect(WorkflowEngine.create({ backend: [other, broken], handleSignals: false })).rejects.toThrow(
      /backend "broken" failed to start: Error: no route to host/,
    );
    expect(shutdowns).toBe(1);
  });

  it("refuses a backend instance attached to a second engine, and the first engine goes on with it", async () => {
    const b = new LocalBackend();
    const first = await engine({ backend: b });
    await expect(WorkflowEngine.create({ backend: [new LocalBackend({ name: "mine" }), b], handleSignals: false })).rejects.toThrow(
      /backend "local" is already attached to an engine/,
    );
    expect(await first.functionTask((x: number) => x + 1)(1)).toBe(2);
  });
});

describe("task definition", () => {
  it("a non-function is refused when the task is defined", async () => {
    const flow = await engine();
    expect(() => flow.functionTask(42 as never)).toThrow(InvalidTaskError);
    expect(() => flow.functionTask("x" as never, { name: "str" })).toThrow(/Task "str": expected a function to wrap, got string/);
  });

  it("bad task options are refused, naming the task and the option", async () => {
    const flow = await engine();
    expect(() => flow.executableTask(() => "true", { name: "t", timeout: -5 })).toThrow(/Task "t": option `timeout`/);
    expect(() => flow.functionTask(() => 1, { name: "f", cwd: "/" } as never)).toThrow(/Task "f": unknown option `cwd`/);
  });

  it("routes by backend name; an unknown name is an error at definition naming the known ones", async () => {
    const flow = await engine({ backend: [new LocalBackend(), new NoopBackend({ name: "dry" })] });
    const real = flow.functionTask(() => "ran", { name: "real" });
    const dry = flow.functionTask(() => "ran", { name: "dry", backend: "dry" });
    expect(await real()).toBe("ran");
    expect(await dry()).toBe("<dry-run task.000002 dry>");
    expect(() => flow.functionTask(() => 1, { name: "lost", backend: "gpu" })).toThrow(
      /Task "lost": unknown backend "gpu": this engine has "local", "dry"/,
    );
    expect(() => flow.functionTask(() => 1, { name: "typo", backend: "locl" })).toThrow(/Task "typo": unknown backend "locl" \(did you mean "local"\?\): this engine has "local", "dry"/);
  });
});

describe("pending()", () => {
  it("lists the live tasks (waiting, running, blocks) in creation order, and drops each as it finishes", async () => {
    const flow = await engine();
    const g = gate<number>();
    const hold = flow.functionTask(() => g.promise, { name: "hold" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const blk = flow.block(async (x: number) => x, { name: "blk" });
    const done = inc(0);
    await done;
    const a = hold();
    const b = inc(a);
    const c = blk(b);
    const d = inc(5);
    expect(flow.pending()).toEqual([a, b, c, d]);
    await d;
    expect(flow.pending()).toEqual([a, b, c]);
    expect(a.state).toBe("RUNNING");
    b.cancel();
    expect(flow.pending()).toEqual([a]);
    g.open(1);
    await a;
    expect(flow.pending()).toEqual([]);
  });
});

describe("concurrency", () => {
  it("LocalBackend concurrency bounds function tasks; a queued one can be cancelled", async () => {
    const flow = await engine({ backend: new LocalBackend({ concurrency: 1 }) });
    const g = gate<number>();
    let runs = 0;
    const hold = flow.functionTask(() => {
      runs++;
      return g.promise;
    }, { name: "hold" });
    const a = hold();
    const b = hold();
    const c = hold();
    await tick();
    expect([a.state, b.state, c.state]).toEqual(["RUNNING", "PENDING", "PENDING"]);
    b.cancel();
    g.open(1);
    expect(await a).toBe(1);
    expect(await c).toBe(1);
    expect(runs).toBe(2);
  });
});

describe("dry run", () => {
  it("runs no task body and spawns no process, but runs blocks and completes in dependency order", async () => {
    const flow = await engine({ dryRun: true, backend: [new LocalBackend(), new LocalBackend({ name: "other" })] });
    expect(flow.backends).toEqual(["local", "other"]);
    const ran: string[] = [];
    const order: string[] = [];
    const fn = flow.functionTask((x: unknown) => ran.push(String(x)), { name: "fn" });
    const exe = flow.executableTask((_x: unknown) => {
      ran.push("exe");
      return "touch /tmp/should-not-exist";
    }, { name: "exe", backend: "other" });
    const blk = flow.block(async (x: unknown) => {
      order.push("block");
      return await fn(exe(x));
    }, { name: "blk" });
    const root = fn(blk(fn(1)));
    for (const f of [root]) f.addDoneCallback(() => order.push("root"));
    expect(await root).toBe("<dry-run task.000003 fn>");
    expect(ran).toEqual([]);
    expect(order).toEqual(["block", "root"]);
    expect(() => flow.functionTask(() => 1, { backend: "missing" })).toThrow(/unknown backend "missing"/);
  });
});

describe("shutdown", () => {
  it("cancels pending and running tasks, is idempotent and concurrent-safe, and refuses new tasks", async () => {
    const flow = await WorkflowEngine.create({ handleSignals: false });
    const g = gate<number>();
    const hold = flow.functionTask(() => g.promise, { name: "hold" });
    const inc = flow.functionTask((x: number) => x + 1, { name: "inc" });
    const a = hold();
    const b = inc(a);
    await tick();
    const [p1, p2] = [flow.shutdown(), flow.shutdown()];
    expect(p1).toBe(p2);
    await Promise.all([p1, p2, flow.shutdown()]);
    expect(a.state).toBe("CANCELLED");
    expect(b.state).toBe("CANCELLED");
    expect((a.exception() as Error).message).toMatch(/the engine is shutting down/);
    expect(() => inc(1)).toThrow(EngineShutdownError);
    expect(() => flow.functionTask(() => 1)).toThrow(EngineShutdownError);
  });
});
