import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // One file at a time: on a 2-core machine, timing tests (thread speed-up) must not share the cores with other files.
    fileParallelism: false,
    // test/memory.test.ts checks what the engine lets the collector take
    execArgv: ["--expose-gc"],
    reporters: ["default"],
  },
});
