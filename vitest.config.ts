// vitest settings: every suite under test/, run in forked processes (the XS and broker
// suites start child processes), with time limits that allow for real brokers and real XS.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
