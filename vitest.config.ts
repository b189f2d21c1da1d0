import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // End-to-end suites start the stand-in and child processes: give them room, and keep
    // the two cores for the suites themselves.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
