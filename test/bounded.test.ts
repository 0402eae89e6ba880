import { describe, expect, it } from "vitest";
import { forgetOldest } from "../backends/remote/bounded.js";

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
