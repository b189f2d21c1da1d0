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
import { sleep } from "./reliabilityKit.js";

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
    await daemon.start();
    await sleep(3_000);
    const before = daemon.engine.totals.reconciles;
    const statesBefore = h.standin.stats().functionCalls["sync:getStates"] ?? 0;
    await sleep(4_000);
    const reconciles = daemon.engine.totals.reconciles - before;
    const stateQueries = (h.standin.stats().functionCalls["sync:getStates"] ?? 0) - statesBefore;
    // Waits have grown to retry.maxMs (1 s) by now: about four runs in four seconds.
    expect(reconciles).toBeLessThanOrEqual(8);
    expect(stateQueries).toBeLessThanOrEqual(8);
    expect(await h.getPublic(job.id)).toBeNull();

    await writeFile(png, full);
    await job.succeeded();
    await waitFor(async () => (await h.getPublic(job.id))?.status === "succeeded", { timeoutMs: 10_000, what: "the finished job synced" });
    await daemon.stop(2_000);
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
