import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "./redis.js";

/** Each example and what it must print: an exact text, or a pattern. */
const examples: [string, string | RegExp][] = [
  ["01-basic.ts", "task.000005 (sum) is PENDING\nsum = 80\ntask.000005 is DONE\n"],
  ["02-blocks.ts", "words = 9\n"],
  ["03-nested-blocks.ts", /^result = 30\nblock\.\d+ CANCELLED: .*\(stuck\) was cancelled: taking too long\n$/],
  // the two bad items may fail before or after the root: only the totals are fixed
  ["04-callbacks.ts", /^(task\.\d+ failed: item [49] is bad\n)*collected 8 results\n(task\.\d+ failed: item [49] is bad\n)*done=8 failed=2 cancelled=0\n$/],
  ["05-threads.ts", "fib sum = 1028458\nprimes below 200000 = 17984\nevent loop stayed responsive: true\n"],
  [
    "07-observe.ts",
    "nightly-b: fetchPage (task.000006) failed: page 3 is gone\n" +
      "nightly-b: count (task.000008) failed: task.000008 (count) did not run: dependency task.000006 (fetchPage) failed: Error: page 3 is gone (root cause: fetchPage)\n" +
      "nightly-b: crawl (block.000002) failed: task.000008 (count) did not run: dependency task.000006 (fetchPage) failed: Error: page 3 is gone (root cause: fetchPage)\n" +
      "nightly-a: 2 pages; nightly-b: rejected\n" +
      "TaskCreated=8 TaskStarted=7 TaskCompleted=4 TaskFailed=3\n" +
      "trace: 39 events, first SessionStarted, last SessionEnded\n",
  ],
  [
    "08-debugging.ts",
    /^report \(task\.000011\) is PENDING: it waits on merge \(task\.000010\), which waits on callExternalApi \(task\.000009\): RUNNING on local for [\d.]+ m?s, attempt 1\ntask\.000009 callExternalApi: RUNNING\ntask\.000010 merge: WAITING on callExternalApi\ntask\.000011 report: WAITING on merge\nOK: 140\nreport \(task\.000011\) is DONE\nreport \(task\.000014\) FAILED without running: root cause callBrokenApi \(task\.000012\) failed through merge \(task\.000013\) with Error: HTTP 503\ncallFlakyApi: BACKING_OFF, attempt 2 of 4 in 60 s; last error: HTTP 429\ncallFlakyApi \(task\.000015\) is PENDING: BACKING_OFF, attempt 2 of 4 in 60\.0 s after Error: HTTP 429\n$/,
  ],
  [
    "09-contracts.ts",
    "add(2) = 3\nrefused at the call: argument 0: Invalid input: expected int, received number\nexit code 418 ERROR_NEGATIVE: the sum came out negative\nok on attempt 3 (3 calls)\nparse: the input file is corrupt\nanswered on attempt 2\nhopeless: deadline of 350 ms passed\ngraph: add \"adder\" (adds two integers)\n",
  ],
  [
    "10-resume.ts",
    "run 1: <page https://example.org/a> + <missing>\nrun 1: (failed: HTTP 503 from https://example.org/broken) + <page https://example.org/a>\nrun 1: 2 fetches so far\n" +
      "run 2: <page https://example.org/a> + <missing>\nrun 2: (failed: HTTP 503 from https://example.org/broken) + <page https://example.org/a>\nrun 2: 3 fetches so far\n",
  ],
  ["06-queue.ts", "below 50000: 5133 primes\nbelow 100000: 9592 primes\nbelow 150000: 13848 primes\nbelow 200000: 17984 primes\nworker-side\n"],
];

// 06-queue.ts needs a Redis server: a private one, on a free port
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

describe("examples run and print what they promise", () => {
  it.each(examples)("%s", (name, expected) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", new URL(`../examples/${name}`, import.meta.url).pathname], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, ASYNCFLOW_LOG_LEVEL: "warn", ASYNCFLOW_REDIS_URL: redis.url },
    });
    expect(r.status, r.stderr).toBe(0);
    if (typeof expected === "string") expect(r.stdout).toBe(expected);
    else expect(r.stdout).toMatch(expected);
    if (name === "04-callbacks.ts") expect(r.stdout.match(/failed: item \d is bad/g)).toHaveLength(2);
  });
});
