import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-tmp.ts"],
    // Type-level tests (*.test-d.ts) are checked by tsc, not run: a failed expectTypeOf or an unused @ts-expect-error fails them.
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
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
