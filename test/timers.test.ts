import { describe, expect, it, vi } from "vitest";
import { MAX_DELAY, after } from "../lib/contract/delay.js";
import { TimerEntry, Timers } from "../lib/engine/timers.js";
import { until } from "./helpers.js";

class Named extends TimerEntry {
  constructor(readonly name: string) {
    super();
  }
}

describe("Timers (one timer, a list per duration, a heap of lists)", () => {
  it("fires entries of mixed durations in order of due time, never a removed one, each once", async () => {
    const fired: Named[] = [];
    const timers = new Timers<Named>((e) => fired.push(e));
    const all: Named[] = [];
    // Three durations, interleaved; every sixth entry removed again (from the middle of its list), some re-added with another duration.
    for (let i = 0; i < 60; i++) {
      const e = new Named(`e${i}`);
      all.push(e);
      timers.add(e, [30, 10, 20][i % 3]!);
    }
    for (let i = 0; i < 60; i += 6) timers.remove(all[i]!);
    for (let i = 0; i < 60; i += 9) timers.add(all[i]!, 5);
    timers.add(all[1]!, 40); // moved: from the 10 ms list to the end
    expect(timers.size).toBe(60 - 10 + 4);
    const want = all.filter((e) => e.scheduled).sort((a, b) => a.due - b.due);
    await until(() => fired.length === want.length, 5_000);
    expect(fired.map((e) => e.name)).toEqual(want.map((e) => e.name));
    expect(fired.every((e) => !e.scheduled)).toBe(true);
    expect(timers.size).toBe(0);
    timers.clear();
  });

  it("a list whose first entry goes is due later: the heap of lists reorders", async () => {
    const fired: string[] = [];
    const timers = new Timers<Named>((e) => fired.push(e.name));
    const [a1, a2, b] = [new Named("a1"), new Named("a2"), new Named("b")];
    const t0 = performance.now();
    timers.add(a1, 50);
    await until(() => performance.now() > t0 + 30, 1_000);
    timers.add(a2, 50); // same list as a1, due ~30 ms after it
    timers.add(b, 30); // due between the two
    timers.remove(a1);
    await until(() => fired.length === 2, 5_000);
    expect(fired).toEqual(["b", "a2"]);
  });

  it("an entry added while the timer fires, and many distinct durations (jittered retry delays)", async () => {
    const fired: string[] = [];
    const again = new Named("again");
    const timers = new Timers<Named>((e) => {
      fired.push(e.name);
      if (e.name === "d0") timers.add(again, 1);
    });
    const es = Array.from({ length: 100 }, (_, i) => new Named(`d${i}`));
    es.forEach((e, i) => timers.add(e, 2 + i * 0.37));
    await until(() => fired.length === 101, 5_000);
    expect(fired.filter((n) => n !== "again")).toEqual(es.map((e) => e.name));
    expect(fired).toContain("again");
    timers.clear();
  });
});

describe("after (a delay however long)", () => {
  it("past setTimeout's 2^31 - 1 ms goes through a chain of timers, fires once at its end, and is cancelled between links", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const ms = 2 * MAX_DELAY + 5;
      let fired = 0;
      after(ms, () => fired++);
      vi.advanceTimersByTime(MAX_DELAY);
      vi.advanceTimersByTime(MAX_DELAY);
      expect(fired).toBe(0);
      vi.advanceTimersByTime(5);
      expect(fired).toBe(1);
      vi.advanceTimersByTime(10 * MAX_DELAY);
      expect(fired).toBe(1);
      // cancelled while its second link is armed
      let cancelledFired = 0;
      const cancel = after(ms, () => cancelledFired++);
      vi.advanceTimersByTime(MAX_DELAY + 1);
      cancel();
      vi.advanceTimersByTime(10 * MAX_DELAY);
      expect(cancelledFired).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
