/**
 * An interrupted backfill always ends: Ctrl-C or SIGTERM during an outage (every request
 * refused, so no job can finish and nothing else wakes the run) stops the run within its drain
 * deadline, prints its summary and exits 128 + the signal's number. A second signal while it
 * drains does not kill it before the summary. The binary, as an operator runs it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeTinyJobs } from "../../bench/writeTinyJobs.js";
import type { BackfillSummary } from "../../src/engine/runBackfill.js";
import { BACKFILL_DRAIN_MS } from "../../src/timing.js";
import { cleanEnv, DaemonProcess } from "../helpers/runCli.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** The run's own margin beyond the drain deadline: process start-up and the summary. */
const MARGIN_MS = 5_000;

describe("backfill › interrupted", () => {
  it.each([
    ["SIGINT", 130, 1],
    ["SIGTERM", 143, 1],
    ["SIGINT", 130, 2],
  ] as const)(
    "backfill › %s during an outage ends the run in time with a summary (exit %i; %i signal(s))",
    async (signal, code, signals) => {
      writeTinyJobs(h.jobsDir, 600);
      // Every connection refused, the handshake's too: an outage from the first request on.
      h.standin.setFaults({ refuse: true, durationMs: 10 * 60_000 });
      const run = new DaemonProcess(["backfill", "--jobs-dir", h.jobsDir, "--json", "--log-level", "warn"], {
        env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token }),
      });
      try {
        // Once the run has met the outage (the queue gates everything behind one probe).
        await waitFor(() => run.stderr.includes("backendDown") || run.stdout.includes("backendDown"), {
          timeoutMs: 30_000,
          what: "the outage seen",
        });
        const sentAt = Date.now();
        for (let i = 0; i < signals; i++) run.child.kill(signal);
        const exit = await run.exited;
        expect(Date.now() - sentAt).toBeLessThan(BACKFILL_DRAIN_MS + MARGIN_MS);
        expect(exit.code, run.stderr.slice(-2000)).toBe(code);
        const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as BackfillSummary;
        expect(summary.interrupted).toBe(signal);
        expect(summary.jobs).toBe(600);
        expect(summary.failed).toEqual([]);
        expect(summary.pending.length + summary.inSync + summary.syncedNow).toBe(600);
      } finally {
        await run.stop("SIGKILL");
      }
    },
    60_000,
  );
});
