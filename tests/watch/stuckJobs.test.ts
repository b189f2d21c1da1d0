/**
 * A job the daemon keeps failing on for a reason that is not its data (here a bug: the commit
 * throws a TypeError) is reported stuck — log, `status`, metric — retried, and never marked.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectStatus } from "../../src/ops/collectStatus.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import { STUCK_REPORT } from "../../src/watch/stuckReport.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe("stuck jobs", () => {
  it("watch › a job failing on a bug is reported stuck (status, metric, report) and retried, never marked; the report goes with the daemon", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    const before = readFileSync(path.join(j.dir, "job.json"), "utf8");
    const gateway = new FakeGateway();
    gateway.failNext("commit", new TypeError("Cannot read properties of undefined (reading 'storageId')"), Number.POSITIVE_INFINITY);
    const config = h.config({ retry: { baseMs: 5, maxMs: 300, maxAttempts: 3, maxRetryMs: 60_000 } });
    const daemon = new WatchDaemon({ config, gateway, backend: new FallbackWatchBackend(), log: h.log });
    const report = path.join(h.jobsDir, STUCK_REPORT);
    try {
      await daemon.start();
      await waitFor(() => existsSync(report), { timeoutMs: 10_000, what: "the stuck report" });
      const status = await collectStatus({ config, gateway, jobIds: [j.id] });
      expect(status.entries[0]).toMatchObject({ jobId: j.id, state: "stuck", code: "STUCK" });
      expect(status.entries[0]!.detail).toContain("INTERNAL");
      const metrics = await daemon.metrics.registry.metrics();
      expect(metrics).toMatch(/^celstate_sync_stuck_jobs 1$/m);
      // At least one per attempt before it was reported stuck (more once retries went on).
      const internal = /^celstate_sync_internal_errors_total (\d+)$/m.exec(metrics);
      expect(Number(internal?.[1])).toBeGreaterThanOrEqual(3);
      // Still retried at the slowest pace (retry.maxMs), and job.json untouched.
      const seen = gateway.calls.commit;
      await waitFor(() => gateway.calls.commit > seen, { timeoutMs: 5_000, what: "a retry after it got stuck" });
      expect(readFileSync(path.join(j.dir, "job.json"), "utf8")).toBe(before);
    } finally {
      await daemon.stop(1_000);
    }
    expect(existsSync(report)).toBe(false);
  });
});
