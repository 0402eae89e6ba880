/**
 * The worker's job checks (backends/queue/schema.ts): zod's schemas decide,
 * and the same schemas compiled by ajv answer first for the common case. A
 * value the compiled check passes must be one zod accepts (else the quick
 * path would let through what the schema refuses), and the jobs engines send
 * must pass it (else the quick path would never be taken).
 */
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { envelope } from "../backends/queue/protocol.js";
import { wireChecks } from "../backends/queue/schema.js";
import { Signer } from "../backends/queue/sign.js";
import { toWire } from "../lib/contract/codec.js";

const astral = (n: number): string => "\u{1F600}".repeat(n); // 2 UTF-16 units each
const fn = { kind: "function", uid: "task.000123", name: "noop", attempt: 1, args: [1] };
const cmd = { kind: "command", uid: "task.000124", name: "build", attempt: 1, command: "make" };

/** A job as the engine makes it (protocol.ts), signed, through JSON as Redis keeps it. */
const made = JSON.parse(
  JSON.stringify(
    envelope(
      "k3x9f2a.000123.1",
      "asyncflow.session.4ff1f0cb",
      { kind: "function", uid: "task.000123", name: "noop", attempt: 1, args: toWire([1, new Map([[1, 2]])]), module: undefined, source: { expression: "(i) => i", context: false }, trace: undefined },
      new Signer("asyncflow-test-secret-0123456789"),
    ),
  ),
) as { p: string };

/** Jobs as engines send them: each must take the quick path. */
const sent = {
  envelope: [
    made,
    { v: 3, s: "asyncflow.session.4ff1f0cb", p: "{}" },
    { v: 3, s: "asyncflow.session.4ff1f0cb", p: "{}", sig: "x".repeat(43) },
  ],
  payload: [
    JSON.parse(made.p) as unknown,
    fn,
    { ...fn, args: [] },
    { ...fn, args: { "$asyncflow.v8": serialize([1n]).toString("base64") } },
    { ...fn, module: { href: "file:///srv/tasks.js", export: "noop" } },
    { ...fn, source: { expression: "(i) => i", context: false } },
    { ...fn, trace: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, resent: 1 },
    { ...fn, uid: "x".repeat(100), name: "n".repeat(250) },
    cmd,
    { ...cmd, command: ["make", "-j2"], cwd: "/srv", env: { A: "1" }, timeout: 5000, captureStdio: true },
  ],
};

/** Values at and past each limit (lengths in code points, patterns on UTF-16 units), and of every wrong type. */
const edges = {
  envelope: [
    "hello",
    null,
    [],
    { v: 2, s: "s", p: "{}" },
    { v: "3", s: "s", p: "{}" },
    { v: 3, s: "s", p: 5 },
    { v: 3, s: "s", p: "{}", sig: 5 },
    { v: 3, s: "s", p: "{}", extra: true },
    ...["", ".", "..", "a/b", "a\\b", "a\0b", "...", "x".repeat(200), "x".repeat(201), astral(100), astral(101), `${astral(99)}xx`, `${astral(99)}xxx`].map((s) => ({ v: 3, s, p: "{}" })),
  ],
  payload: [
    ...["", "x".repeat(200), "x".repeat(201), astral(100), astral(101), `${astral(100)}x`, 5].map((uid) => ({ ...fn, uid })),
    ...["", "n".repeat(500), "n".repeat(501), astral(250), astral(251), null].map((name) => ({ ...fn, name })),
    ...[0, 1.5, -1, "1", 2 ** 53].map((attempt) => ({ ...fn, attempt })),
    ...[-1, 0.5, "0"].map((resent) => ({ ...fn, resent })),
    ...["hello", { "$asyncflow.v8": 5 }, { "$asyncflow.v8": "AAAA", x: 1 }, null].map((args) => ({ ...fn, args })),
    { ...fn, module: { href: "", export: "noop" } },
    { ...fn, module: { href: "m", export: "noop", x: 1 } },
    { ...fn, source: { expression: "x", context: "yes" } },
    { ...fn, trace: { a: 1 } },
    { ...fn, extra: true },
    { ...fn, kind: "shell" },
    { ...fn, command: "make" },
    ...["", [], [""], 5].map((command) => ({ ...cmd, command })),
    { ...cmd, env: { A: 1 } },
    { ...cmd, timeout: 0 },
    { ...cmd, cwd: "" },
    { ...cmd, args: [] },
  ],
};

describe("the worker's job checks", () => {
  for (const part of ["envelope", "payload"] as const) {
    const { schema, quick } = wireChecks[part];

    it(`${part}: the compiled check passes only what zod accepts`, () => {
      const verdicts = [...sent[part], ...edges[part]].map((value) => ({ value, quick: quick(value), zod: schema.safeParse(value).success }));
      expect(verdicts.filter((v) => v.quick && !v.zod)).toEqual([]);
      // the edges hold both sides of the limits
      const edgeVerdicts = verdicts.slice(sent[part].length);
      expect(edgeVerdicts.filter((v) => v.zod).length).toBeGreaterThan(2);
      expect(edgeVerdicts.filter((v) => !v.zod).length).toBeGreaterThan(10);
    });

    it(`${part}: what engines send takes the quick path`, () => {
      expect(sent[part].filter((value) => !quick(value))).toEqual([]);
    });
  }

  it("a string past half its limit goes to zod: a limit counted in code points by ajv holds in UTF-16 units too", () => {
    const { schema, quick } = wireChecks.payload;
    for (const uid of ["x".repeat(101), astral(101)]) {
      expect(quick({ ...fn, uid })).toBe(false);
      expect(schema.safeParse({ ...fn, uid }).success).toBe(true);
    }
    expect(quick({ ...fn, uid: astral(50) })).toBe(true);
  });
});
