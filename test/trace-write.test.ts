/**
 * The trace file's write path, with `writeSync` taken in hand: a short write
 * is finished from where it stopped (in bytes, with characters of several
 * bytes in the lines), a failing write is logged once and stops the trace
 * without failing the flow, and lines are written in batches, not one a call.
 */
import * as fs from "node:fs";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Logger } from "../lib/contract/log.js";
import type { FlowEvent } from "../lib/index.js";
import { TraceFile } from "../lib/engine/trace.js";

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});

const real = (await vi.importActual<typeof import("node:fs")>("node:fs")).writeSync;
const writeSync = vi.mocked(fs.writeSync);

afterEach(() => {
  writeSync.mockReset();
  writeSync.mockImplementation(real);
});

const tracePath = (): string => join(mkdtempSync(join(tmpdir(), "af-trace-write-")), "run.jsonl");
const event = (i: number): FlowEvent => ({ type: "BackendNotice", sessionId: "s", time: 1e12 + i / 7, backend: "b", level: "info", message: `né ${i} ✓ 𝄞` });

describe("trace file writes", () => {
  it("a short write is finished from the byte where it stopped; the file holds every line whole", () => {
    // At most 1000 bytes a call: every flush is cut, often inside a character of several bytes.
    writeSync.mockImplementation(((fd: number, data: string | NodeJS.ArrayBufferView, offset?: number) => {
      const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength).subarray(offset ?? 0);
      return real(fd, bytes, 0, Math.min(1000, bytes.length));
    }) as typeof fs.writeSync);
    const path = tracePath();
    const trace = new TraceFile(path, "s", new Logger("error", () => undefined));
    const events = Array.from({ length: 5000 }, (_, i) => event(i));
    for (const e of events) trace.write(e);
    trace.close();
    expect(readFileSync(path, "utf8")).toBe(events.map((e) => JSON.stringify(e) + "\n").join(""));
    expect(writeSync.mock.calls.length).toBeGreaterThan(5000 / 300); // cut: more calls than flushes
  });

  it("lines go out in batches, well under one write a line, and at close", () => {
    const path = tracePath();
    const trace = new TraceFile(path, "s", new Logger("error", () => undefined));
    for (let i = 0; i < 3000; i++) trace.write(event(i));
    const batches = writeSync.mock.calls.length;
    expect(batches).toBeGreaterThan(0); // a burst does not wait for the timer
    expect(batches).toBeLessThan(3000 / 100);
    trace.close();
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(3001);
  });

  it("a write that fails is logged once and stops the trace; nothing throws", () => {
    writeSync.mockImplementation(() => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    });
    const lines: string[] = [];
    const trace = new TraceFile(tracePath(), "s", new Logger("error", (l) => lines.push(l)));
    for (let i = 0; i < 3000; i++) trace.write(event(i));
    trace.flush();
    trace.close();
    expect(writeSync).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ERROR s trace file .*run\.jsonl: write failed, tracing stops: Error: ENOSPC/);
  });
});
