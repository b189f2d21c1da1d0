/**
 * A backfill's start: the look at the deployment runs alongside the first state reads, and
 * nothing is uploaded or committed before it has accepted this version; a refusal stops the run
 * with nothing written.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { SyncError } from "../../src/errors/SyncError.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** A deployment check the test settles itself. */
function heldCheck() {
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  return { promise, ...settle };
}

async function jobs(n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) await new PipelineJob(h.jobsDir, { pngBytes: 2_000 }).runToSuccess();
  return await listJobIds(h.jobsDir);
}

const called = (fn: string) => h.standin.stats().functionCalls[fn] ?? 0;

describe("backfill start", () => {
  it("backfill › state reads go ahead of the deployment check; uploads and commits wait for it, then sync", async () => {
    const jobIds = await jobs(3);
    const check = heldCheck();
    const config = h.config();
    const run = runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds, deploymentChecked: check.promise });
    try {
      await waitFor(() => called("sync:getStates") > 0, { what: "the first state read" });
      // The jobs are queued once their upload URL is fetched ahead; none uploads before the check.
      await waitFor(() => called("assets:generateUploadUrls") > 0, { what: "the upload URL fetched ahead" });
      expect(h.standin.stats().uploads).toBe(0);
      expect(called("sync:commit") + called("sync:commitMany")).toBe(0);
    } finally {
      check.resolve();
    }
    const { summary, fatal } = await run;
    expect(fatal).toBeNull();
    expect(summary.syncedNow).toBe(3);
  });

  it("backfill › a deployment check that refuses stops the run, fatal, with nothing uploaded or committed", async () => {
    const jobIds = await jobs(2);
    const check = heldCheck();
    const config = h.config();
    const run = runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds, deploymentChecked: check.promise });
    await waitFor(() => called("sync:getStates") > 0, { what: "the first state read" });
    check.reject(new SyncError("API_MISMATCH", "the deployment speaks sync API v5, this celstate-sync expects v6"));
    const { summary, fatal } = await run;
    expect(fatal?.code).toBe("API_MISMATCH");
    expect(summary.syncedNow).toBe(0);
    expect(h.standin.stats().uploads).toBe(0);
    expect(called("sync:commit") + called("sync:commitMany")).toBe(0);
    expect(h.standin.stats().documents.jobs).toBe(0);
  });
});
