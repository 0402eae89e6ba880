// taskContext() at any async depth while the engine turns AsyncLocalStorage
// off between bodies (Node < 24, where its promise hooks slow every promise).
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { taskContext } from "../lib/index.js";
import { engine, gate } from "./helpers.js";

const idle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

describe("task context", () => {
  it("logs and serializes as its plain fields (uid, name, attempt), as on threads and queue workers", async () => {
    const flow = await engine();
    const show = flow.functionTask(() => {
      const ctx = taskContext();
      return [JSON.stringify(ctx), inspect(ctx)];
    }, { name: "show" });
    const f = show();
    expect(await f).toEqual([`{"uid":"${f.uid}","name":"show","attempt":1}`, `TaskContext {"uid":"${f.uid}","name":"show","attempt":1}`]);
  });

  it("is seen at any depth by a body still waiting while others end, and after the engine was idle", async () => {
    const flow = await engine();
    const held = gate();
    const deep = flow.functionTask(async () => {
      await held.promise;
      await sleep(1);
      await Promise.resolve();
      return taskContext().uid;
    });
    const quick = flow.functionTask(async () => taskContext().uid);
    const waiting = deep();
    expect(await quick()).toMatch(/^task\./); // ends while `deep` is still in flight
    await idle();
    held.open();
    expect(await waiting).toBe(waiting.uid);
    await idle(); // nothing in flight for a turn: the store may be off now
    const later = deep();
    expect(await later).toBe(later.uid);
  });

  it("leaves the user's own promises without hooks once no body is in flight", async () => {
    const flow = await engine();
    await flow.functionTask(async () => taskContext().uid)();
    await idle();
    // promise hooks (Node < 24, while a store is enabled) tag every new promise with symbol-keyed fields
    expect(Object.getOwnPropertySymbols(new Promise(() => {}))).toEqual([]);
    expect(() => taskContext()).toThrow(/outside a task body/);
  });
});
