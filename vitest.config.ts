import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // End-to-end suites start the stand-in and child processes: give them room, and keep
    // the two cores for the suites themselves.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // One file per core, not vitest's default of one fewer: most files spend their time
    // waiting on a stand-in, a child process or a timer, and on a 2-core machine the default
    // is a single worker (the whole suite 458 s serial, 272 s with two).
    maxWorkers: "100%",
    globalSetup: ["tests/setup/buildOnce.ts"],
    projects: [
      { extends: true, test: { name: "all", include: ["tests/**/*.test.ts"] } },
      {
        // The end-to-end backfill and watch suites once more, against a stand-in under load:
        // a tight function concurrency limit (429 TooManyConcurrentRequests) and a tenth of
        // mutations refused as OCC failures (tests/helpers/syncHarness.ts).
        extends: true,
        test: {
          name: "under load",
          include: ["tests/e2e/backfill.test.ts", "tests/e2e/watch.test.ts"],
          env: { CELSTATE_SYNC_STANDIN_UNDER_LOAD: "1" },
        },
      },
    ],
  },
});
