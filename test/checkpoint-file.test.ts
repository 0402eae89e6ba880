import { spawnSync } from "node:child_process";
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../lib/index.js";
import { captureStderr, engine } from "./helpers.js";

const shortWrite = new URL("./fixtures/short-write-flow.ts", import.meta.url).pathname;
const dir = (): string => mkdtempSync(join(tmpdir(), "af-ckpt-file-"));
const records = (path: string): unknown[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .slice(1, -1)
    .map((l) => JSON.parse(l) as unknown);

describe("checkpoint file", () => {
  it("a result whose record is longer than a string can be fails its task with CheckpointError naming the task and the file; the file goes on", async () => {
    const ckpt = join(dir(), "run.ckpt");
    const flow = await engine({ checkpoint: ckpt });
    // JSON writes each \u0001 as six characters: 90 M of them pass V8's longest string (2^29 - 24) for real, from a 90 MB value
    const huge = flow.functionTask(function huge(n: number) {
      return "\u0001".repeat(n);
    });
    const small = flow.functionTask(function small(n: number) {
      return n + 1;
    });
    const f = huge(90_000_000);
    const err = (await f.catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toBe(`${f.uid} (huge): its result could not be written to checkpoint ${ckpt}: RangeError: Invalid string length`);
    expect(err.cause).toBeInstanceOf(RangeError);
    expect(await small(1)).toBe(2);
    await flow.shutdown();
    expect(records(ckpt)).toEqual([{ k: expect.stringMatching(/^small@/) as unknown, v: 2 }]);
  }, 60_000);

  it("a write cut short (a file-size limit) fails the tasks of that write with CheckpointError and leaves the file at its last whole record", () => {
    const ckpt = join(dir(), "run.ckpt");
    // 16 KiB: the header and five 3 KB records fit, the sixth is cut part-way
    const r = spawnSync("bash", ["-c", 'ulimit -f 16; exec "$0" --import tsx "$1" "$2"', process.execPath, shortWrite, ckpt], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.split("\n").filter((l) => l !== "");
    expect(out.slice(0, 5)).toEqual(["0 DONE", "1 DONE", "2 DONE", "3 DONE", "4 DONE"]);
    expect(out[5]).toMatch(/^5 CheckpointError: task\.\d+ \(step\): its result could not be written to checkpoint /);
    expect(out[5]).toContain(`checkpoint ${ckpt}: Error: EFBIG: file too large, write`);
    expect(out).toHaveLength(6);
    const text = readFileSync(ckpt, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(records(ckpt).map((rec) => (rec as { v: string }).v.slice(0, 2))).toEqual(["0:", "1:", "2:", "3:", "4:"]);
  }, 60_000);

  it("a file past the longest string (~512 MiB) opens again: it is read as bytes and decoded line by line", async () => {
    const ckpt = join(dir(), "run.ckpt");
    const runs: number[] = [];
    const once = async (): Promise<number[]> => {
      const flow = await engine({ checkpoint: ckpt });
      const step = flow.functionTask(function step(i: number) {
        runs.push(i);
        return i * 10;
      });
      const values = [await step(1), await step(2)];
      await flow.shutdown();
      return values;
    };
    expect(await once()).toEqual([10, 20]);
    const [header, first, second] = readFileSync(ckpt, "utf8").split("\n") as [string, string, string];
    // between the two records, a line of 540 MB (a hole: no disk written) that no string can hold
    const fd = openSync(ckpt, "w");
    writeSync(fd, `${header}\n${first}\n`);
    const at = fstatSync(fd).size + 540_000_000;
    ftruncateSync(fd, at);
    writeSync(fd, `\n${second}\n`, at);
    closeSync(fd);
    expect(statSync(ckpt).size).toBeGreaterThan(2 ** 29);
    const log = captureStderr();
    expect(await once()).toEqual([10, 20]);
    expect(runs).toEqual([1, 2]);
    expect(log.text()).toContain(`${ckpt} checkpoint: line 3 is not a record, ignored`);
  }, 60_000);

  it("a resumed result is what a clean run gives: symbol keys, an array's named properties and sharing survive (or the result is not recorded)", async () => {
    const ckpt = join(dir(), "run.ckpt");
    const tag = Symbol.for("tag");
    const once = async (): Promise<{ values: unknown[]; runs: string[] }> => {
      const flow = await engine({ checkpoint: ckpt });
      const runs: string[] = [];
      const withSymbol = flow.functionTask(function withSymbol() {
        runs.push("withSymbol");
        return { id: 1, [tag]: "urgent" };
      });
      const withProps = flow.functionTask(function withProps() {
        runs.push("withProps");
        return Object.assign([1, 2, 3], { total: 6 });
      });
      const sharing = flow.functionTask(function sharing() {
        runs.push("sharing");
        const cfg = { n: 1 };
        return { a: cfg, b: cfg };
      });
      const values = [await withSymbol(), await withProps(), await sharing()];
      await flow.shutdown();
      return { values, runs };
    };
    const clean = await once();
    const again = await once();
    expect(again.runs).toEqual(["withSymbol"]); // V8 too drops symbol keys: not recorded, so run again
    expect(again.values).toStrictEqual(clean.values);
    const shared = again.values[2] as { a: unknown; b: unknown };
    expect(shared.a).toBe(shared.b);
  });

  it("two calls resumed from one record get an object each, as in a clean run", async () => {
    const ckpt = join(dir(), "run.ckpt");
    const once = async (): Promise<[unknown, unknown]> => {
      const flow = await engine({ checkpoint: ckpt });
      const load = flow.functionTask(function load(n: number) {
        return { items: [n] };
      });
      const [a, b] = [load(1), load(1)];
      (await a).items.push(10); // a caller working on its own result
      const values: [unknown, unknown] = [await a, await b];
      await flow.shutdown();
      return values;
    };
    const clean = await once();
    expect(clean).toEqual([{ items: [1, 10] }, { items: [1] }]);
    expect(await once()).toEqual(clean);
  });
});
