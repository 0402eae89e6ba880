import { describe, expect, it } from "vitest";
import { findUncloneable, fromWire, toWire } from "../lib/contract/codec.js";
import * as asyncflow from "../lib/index.js";
import {
  AsyncflowError,
  BackendUnreachableError,
  CommandLineError,
  DependencyFailureError,
  EngineShutdownError,
  ExecutableError,
  InvalidOptionsError,
  InvalidStateError,
  InvalidTaskError,
  JobRefusedError,
  CheckpointLockedError,
  CheckpointError,
  TaskError,
  TaskCancelledError,
  TraceFileError,
  WorkerCrashError,
  InputValidationError,
  OutputValidationError,
  ExitCodeError,
  NonRetryableError,
  TaskTimeoutError,
  deserializeError,
  serializeError,
} from "../lib/index.js";

describe("error codec", () => {
  it("round-trips name, message, stack, cause chain and data fields through structured clone", () => {
    const inner = new TypeError("inner");
    const outer = Object.assign(new RangeError("outer", { cause: inner }), { code: "E_X", detail: { n: 1 }, fn: () => 1 });
    const back = deserializeError(structuredClone(serializeError(outer))) as RangeError & { code: string; detail: unknown; fn: unknown };
    expect(back).toBeInstanceOf(RangeError);
    expect(back.name).toBe("RangeError");
    expect(back.message).toBe("outer");
    expect(back.stack).toBe(outer.stack);
    expect(back.code).toBe("E_X");
    expect(back.detail).toEqual({ n: 1 });
    expect(typeof back.fn).toBe("string"); // a function field becomes its text rather than breaking the clone
    expect(back.cause).toBeInstanceOf(TypeError);
    expect((back.cause as Error).message).toBe("inner");
  });

  it("keeps custom error names on a plain Error, and non-error causes as values", () => {
    class DbError extends Error {
      override name = "DbError";
    }
    const back = deserializeError(structuredClone(serializeError(new DbError("down", { cause: { retry: true } }))));
    expect(back.name).toBe("DbError");
    expect(back.cause).toEqual({ retry: true });
  });

  it("stops a cyclic cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(() => structuredClone(serializeError(a))).not.toThrow();
  });
});

describe("findUncloneable", () => {
  const cases: [string, unknown, string | null][] = [
    ["number", 1, null],
    ["string", "s", null],
    ["built-ins", { a: [1, { b: new Date() }], m: new Map([[1, new Set([2])]]), u: new Uint8Array(2), e: new Error("x") }, null],
    ["function", () => 1, "a function"],
    ["nested function", { a: [1, { f: () => 1 }] }, "a function at .a[1].f"],
    ["symbol", [Symbol("x")], "a symbol at [0]"],
    ["class instance", { s: new (class Sock {})() }, "an instance of class Sock at .s (structured clone would drop its prototype and methods)"],
    ["function in a Map", new Map([["k", () => 1]]), "a function at .get(k)"],
    ["function as a Map key", new Map([[() => 1, 1]]), "a function at <key>"],
    ["function in a Set in an array", [1, [new Set([2, () => 1])]], "a function at [1][0]<member>"],
    ["detached buffer", { b: (() => { const b = new ArrayBuffer(8); structuredClone(b, { transfer: [b] }); return b; })() }, "a detached ArrayBuffer at .b (moved away, by `transfer: true` say)"],
  ];
  it.each(cases)("%s", (_label, value, expected) => {
    expect(findUncloneable(value)).toBe(expected);
  });

  it("handles cycles", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(findUncloneable(o)).toBeNull();
    // back to the top after primitives, where the walk has not yet remembered it
    const top: unknown[] = [1, "a"];
    top.push({ up: top });
    expect(findUncloneable(top)).toBeNull();
    // and the path of what it finds after such a cycle is the shortest, not one through the cycle
    const then: unknown[] = [1];
    then.push({ up: then }, () => 1);
    expect(findUncloneable(then)).toBe("a function at [2]");
    // a getter read twice could hide the object below from the walk's memory
    const tricky: unknown[] = [];
    let reads = 0;
    Object.defineProperty(tricky, 0, { get: () => (reads++ % 2 === 1 ? 1 : tricky), enumerable: true });
    expect(findUncloneable(tricky)).toBeNull();
    const map = new Map<unknown, unknown>([[1, 2]]);
    map.set(3, map);
    expect(findUncloneable(map)).toBeNull();
  });
});

describe("asyncflow errors across the codec", () => {
  it("come back as their class with their fields", () => {
    const e = new ExecutableError({ uid: "task.000001", name: "ls" }, { command: "ls", exitCode: 2, signal: null, stdout: "", stderr: "no such file" });
    const back = deserializeError(structuredClone(serializeError(e)));
    expect(back).toBeInstanceOf(ExecutableError);
    expect(back).toBeInstanceOf(AsyncflowError);
    expect(back.name).toBe("ExecutableError");
    expect((back as ExecutableError).exitCode).toBe(2);
    expect((back as ExecutableError).stderr).toBe("no such file");
    expect(back.message).toBe(e.message);
    // a foreign error named like an Object.prototype member stays a plain Error
    expect(deserializeError({ name: "constructor", message: "m" })).not.toBeInstanceOf(AsyncflowError);
  });

  // Written out rather than found with the codec's own filter, so a class the codec's registry misses fails here.
  const exported: (abstract new (...args: never[]) => Error)[] = [
    AsyncflowError,
    TaskError,
    DependencyFailureError,
    TaskCancelledError,
    ExecutableError,
    EngineShutdownError,
    InvalidTaskError,
    InvalidOptionsError,
    InvalidStateError,
    WorkerCrashError,
    InputValidationError,
    OutputValidationError,
    ExitCodeError,
    NonRetryableError,
    TaskTimeoutError,
    BackendUnreachableError,
    JobRefusedError,
    CheckpointLockedError,
    CheckpointError,
    TraceFileError,
    CommandLineError,
  ];

  it("every error class asyncflow exports comes back as itself, found by its name", () => {
    for (const C of exported) {
      const back = deserializeError({ name: C.name, message: "m" });
      expect(back, C.name).toBeInstanceOf(C);
      expect(back.constructor, C.name).toBe(C);
    }
  });

  it("the list above is every error class the package exports (add a new one there)", () => {
    const names = Object.entries(asyncflow).filter(([n, v]) => /^[A-Z]\w*Error$/.test(n) && typeof v === "function").map(([n]) => n);
    expect(names.sort()).toEqual(exported.map((C) => C.name).sort());
  });
});

describe("wire codec (values bound for another process)", () => {
  const viaJson = (x: unknown): unknown => fromWire(JSON.parse(JSON.stringify(toWire(x))));

  it("sends what JSON keeps exactly as itself", () => {
    for (const x of [1, "s", true, null, [1, [2, { a: "b" }]], { n: 1.5, list: [], nested: { ok: false } }]) {
      expect(toWire(x)).toBe(x);
      expect(viaJson(x)).toEqual(x);
    }
  });

  it("sends the rest through V8 serialization, so types survive", () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const cases: unknown[] = [
      new Map([["k", 1n]]),
      new Date(0),
      new Set([1]),
      new Uint8Array([1, 2]),
      -0,
      NaN,
      Infinity,
      undefined,
      [1, undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { "$asyncflow.v8": "not a tag" },
      { when: new Date(5) },
    ];
    for (const x of cases) {
      expect(toWire(x)).not.toBe(x);
      if (typeof x === "object") expect(viaJson(x)).toStrictEqual(x);
      else expect(Object.is(viaJson(x), x), typeof x).toBe(true);
    }
    const back = viaJson(cyclic) as { self: unknown };
    expect(back.self).toBe(back);
  });

  it("sends through V8 what JSON would take apart: symbol keys, an array's named properties, an array subclass, an object reached twice", () => {
    const rows = Object.assign([1, 2, 3], { total: 6 });
    // a long one too (checked another way than short ones), and a long plain one that stays JSON's
    const long = Array.from({ length: 1000 }, (_, i) => i);
    expect(toWire(long)).toBe(long);
    const longNamed = Object.assign(long.slice(), { total: 1 });
    expect(toWire(longNamed)).not.toBe(longNamed);
    expect(viaJson(longNamed)).toStrictEqual(longNamed);
    const shared = { n: 1 };
    class Rows extends Array<number> {}
    // the walk remembers objects only from its first object below the top: after primitives, the top and a shared one are still seen
    const loop: unknown[] = [1, "a"];
    loop.push(loop);
    const late = { n: 0, o: { shared } as unknown };
    (late.o as Record<string, unknown>).back = late;
    for (const x of [{ id: 1, [Symbol.for("tag")]: "urgent" }, [1, Object.assign([2], { [Symbol.for("tag")]: 1 })], rows, { a: shared, b: shared }, [shared, shared], [1, shared, 2, shared], loop, late, Rows.from([1])]) {
      expect(toWire(x)).not.toBe(x);
    }
    expect(viaJson(rows)).toStrictEqual(rows);
    const back = viaJson({ a: shared, b: [shared] }) as { a: unknown; b: unknown[] };
    expect(back.a).toBe(back.b[0]);
    // equal but distinct objects are JSON's as before
    const twins = { a: { n: 1 }, b: { n: 1 } };
    expect(toWire(twins)).toBe(twins);
  });
});
