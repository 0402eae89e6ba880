import { describe, expect, it } from "vitest";
import { forgetOldest } from "../backends/remote/bounded.js";
import { compile } from "../backends/remote/execute.js";

describe("forgetOldest (the workers' bounded caches and notes)", () => {
  it("keeps the most recent `max` entries of a Map or a Set, in insertion order", () => {
    const map = new Map<string, number>();
    const set = new Set<number>();
    for (let i = 0; i < 5; i++) {
      map.set(`k${i}`, i);
      forgetOldest(map, 3);
      set.add(i);
      forgetOldest(set, 3);
    }
    expect([...map.keys()]).toEqual(["k2", "k3", "k4"]);
    expect([...set]).toEqual([2, 3, 4]);
    // an entry set again keeps its place: it is not the most recent
    map.set("k2", 20);
    map.set("k5", 5);
    forgetOldest(map, 3);
    expect([...map.keys()]).toEqual(["k3", "k4", "k5"]);
  });
});

describe("the workers' cache of compiled shipped functions", () => {
  it("keeps the 1,000 most recent: a function compiled before them is compiled again", () => {
    const first = compile({ expression: "(x) => x + 0" });
    expect(compile({ expression: "(x) => x + 0" })).toBe(first);
    const oldest = compile({ expression: "(x) => x + 1" });
    for (let i = 2; i <= 1000; i++) compile({ expression: `(x) => x + ${i}` });
    // 1,001 compiled: the first is dropped, the 1,000 after it kept (looking one up does not reorder them)
    expect(compile({ expression: "(x) => x + 1" })).toBe(oldest);
    const again = compile({ expression: "(x) => x + 0" });
    expect(again).not.toBe(first);
    expect(again(41)).toBe(41);
  });
});
