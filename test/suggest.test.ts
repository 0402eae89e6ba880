import { describe, expect, it } from "vitest";
import { closestName, didYouMean } from "../lib/contract/suggest.js";

describe("did you mean", () => {
  const options = ["retries", "retryOn", "retryDelay", "timeout", "deadline", "min", "max"];

  it("the closest known name, in any case, within a third of the input's length in edits", () => {
    expect(closestName("timout", options)).toBe("timeout");
    expect(closestName("RetryOn", options)).toBe("retryOn");
    expect(closestName("TIMEOUT", options)).toBe("timeout");
    // eight characters allow three edits, not four
    expect(closestName("dedlyne", options)).toBe("deadline");
    expect(closestName("abcdefgh", ["abcdwxyz"])).toBeNull();
  });

  it("names of three characters or fewer allow one edit: max is not a typo of min", () => {
    expect(closestName("mx", options)).toBe("max");
    expect(closestName("mon", ["max"])).toBeNull();
  });

  it("a tie goes to the first known name; a second one an edit further is named too", () => {
    expect(closestName("ab", ["aa", "bb"])).toBe("aa");
    expect(didYouMean("retry", options)).toBe(' (did you mean "retryOn" or "retries"?)');
    expect(didYouMean("retriez", options)).toBe(' (did you mean "retries"?)');
    expect(didYouMean("nonsense", options)).toBe("");
  });
});
