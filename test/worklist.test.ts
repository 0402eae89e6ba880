import { describe, expect, it } from "vitest";
import { WorkList } from "../lib/engine/worklist.js";

describe("WorkList", () => {
  it("an item that throws does not cost the items behind it (pushed before or during the drain) their turn; the first error is thrown after", () => {
    const handled: number[] = [];
    const list: WorkList<number> = new WorkList((n) => {
      handled.push(n);
      if (n === 2) list.push(4); // pushed while draining, behind the one that throws
      if (n === 2 || n === 3) throw new Error(`item ${n}`);
    });
    for (const n of [1, 2, 3]) list.push(n);
    expect(() => list.drain()).toThrow("item 2");
    expect(handled).toEqual([1, 2, 3, 4]);
    // drained, and ready for the next
    list.push(5);
    list.drain();
    expect(handled).toEqual([1, 2, 3, 4, 5]);
  });
});
