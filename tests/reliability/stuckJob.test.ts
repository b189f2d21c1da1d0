/**
 * A job that never finishes settling (the pipeline died in the middle of `cv2.imwrite`, so a
 * PNG never gets its IEND; or the component lists a file that is never written) must not cost
 * a reconcile and a remote state query every 100 ms for as long as the daemon runs: the wait
 * grows with the time spent waiting, up to `retry.maxMs`. When the file is finished after
 * all, the job still syncs; and the pending report names the job, the file and the reason.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** A running job whose output PNG was cut off (no IEND): it can only wait. */
async function stuckJob(): Promise<{ job: PipelineJob; png: string; full: Buffer }> {
  const job = new PipelineJob(h.jobsDir, { pngBytes: 4_000 });
  await job.queued();
  await job.running();
  await job.processing();
  const png = path.join(job.dir, "outputs", `${job.name}.png`);
  const full = await readFile(png);
  await writeFile(png, full.subarray(0, 100));
  return { job, png, full };
}

describe("settling jobs", () => {
  it("watch › a PNG that never gets its IEND costs a few reconciles, not ten a second; finished late, it still syncs", async () => {
    const { job, png, full } = await stuckJob();
    const daemon = new WatchDaemon({
      config: h.config({ settleMs: 50, retry: { baseMs: 10, maxMs: 1_000, maxAttempts: 50, maxRetryMs: 60_000 } }),
      gateway: h.gateway(),
      backend: new FallbackWatchBackend(),
      log: h.log,
    });
    try {
      await daemon.start();
      const statesBefore = h.standin.stats().functionCalls["sync:getStates"] ?? 0;
      // When each reconcile was seen (to the poll's 10 ms). Waits grow with the time waited, a
      // quarter of it, up to retry.maxMs (1 s): wait for three such waits in a row.
      const runs: number[] = [];
      const gaps = () => runs.slice(1).map((t, i) => t - runs[i]!);
      await waitFor(
        () => {
          while (runs.length < daemon.engine.totals.reconciles) runs.push(Date.now());
          return (
            runs.length >= 4 &&
            gaps()
              .slice(-3)
              .every((g) => g >= 900)
          );
        },
        { timeoutMs: 15_000, intervalMs: 10, what: "three waits of retry.maxMs (1 s) in a row between reconciles" },
      );
      const stateQueries = (h.standin.stats().functionCalls["sync:getStates"] ?? 0) - statesBefore;
      // Getting there took about 20 reconciles in 7 s (ten a second would be 70), each at most
      // one state query.
      const tookMs = runs.at(-1)! - runs[0]!;
      expect(runs.length, `gaps ${gaps().join(", ")} ms`).toBeLessThanOrEqual(Math.ceil(tookMs / 250));
      expect(stateQueries).toBeLessThanOrEqual(runs.length);
      expect(await h.getPublic(job.id)).toBeNull();

      await writeFile(png, full);
      await job.succeeded();
      await waitFor(async () => (await h.getPublic(job.id))?.status === "succeeded", {
        timeoutMs: 10_000,
        what: "the finished job synced",
      });
    } finally {
      await daemon.stop(2_000);
    }
  }, 30_000);

  it("backfill › a job left pending is reported with its file and the reason it waits", async () => {
    const { job } = await stuckJob();
    const config = h.config({ settleMs: 0, settleWaitMs: 300 });
    const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: [job.id] });
    expect(summary.pending).toHaveLength(1);
    const { jobId, reason } = summary.pending[0]!;
    expect(jobId).toBe(job.id);
    expect(reason).toContain(`${job.id}/outputs/${job.name}.png`);
    expect(reason).toMatch(/IEND/);
  });
});
