/**
 * A commit refused after its uploads (an OCC conflict, a 429) costs a second commit, not a
 * second upload: the next attempt commits the blobs already uploaded (UncommittedUploads).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe("a refused commit", () => {
  it.each([
    ["503 OptimisticConcurrencyControlFailure", { occ: true as const, path: "sync:commit", count: 1 }],
    ["429 TooManyConcurrentRequests", { status: 429 as const, retryAfterS: 0, path: "sync:commit", count: 1 }],
  ])("after %s the retry commits the blobs already uploaded: no upload twice, no orphan", async (_label, fault) => {
    const job = new PipelineJob(h.jobsDir);
    await job.runToSuccess();
    h.standin.setFaults(fault);
    const config = h.config();
    const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: [job.id] });
    expect(summary.syncedNow).toBe(1);
    const files = job.assetNames.length + 1; // and the trace
    expect(summary.filesUploaded).toBe(files);
    expect(summary.requestsByFunction["sync:commit"]).toBe(2);
    expect(h.standin.stats().blobs.count).toBe(files);
  });
});
