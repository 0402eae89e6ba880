import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../lib/index.js";
import { engine } from "./helpers.js";

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
});
