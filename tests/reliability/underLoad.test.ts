/**
 * A deployment under load, as the stand-in plays it: a function concurrency limit that refuses
 * with 429 `TooManyConcurrentRequests` (no Retry-After) once a call waited too long for a slot,
 * and mutations refused with 503 `OptimisticConcurrencyControlFailure` at random. The backfill
 * and the watch daemon ride both out: no failure marker, no failed job, everything converges.
 * (The limit here is tighter than Convex's 16 / 5 s, so that the daemon meets it for real.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import { notMirrored, readRecord } from "./reliabilityKit.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  // One slot: a backfill sends few calls (its commits travel together), and any two that
  // overlap must meet the limit.
  h.standin.setFunctionConcurrency({ limit: 1, waitMs: 2 });
  h.standin.setFaults([
    // Every function a little slow, so calls overlap and queue for the slot.
    { latencyMs: 15 },
    { occ: true, probability: 0.15 },
    // A backfill makes few mutations (its commits travel together): the first two meet an OCC
    // conflict for certain, whatever the dice say.
    { occ: true, count: 2, path: "sync:commitMany" },
  ]);
});
afterEach(async () => {
  h.standin.setFunctionConcurrency(null);
  await h.cleanup();
});

const assetsOf = (jobs: PipelineJob[]) => {
  const byId = new Map(jobs.map((j) => [j.id, [...j.assetNames, "trace.json"]]));
  return (id: string) => byId.get(id) ?? [];
};

async function expectNoMarkers(jobs: PipelineJob[]): Promise<void> {
  for (const j of jobs) expect((await readRecord(j.dir)).sync_failure, j.id).toBeUndefined();
}

function expectLoadWasFelt(): void {
  const errors = h.standin.stats().functionErrors;
  const count = (code: string) => Object.values(errors).reduce((n, byCode) => n + (byCode[code] ?? 0), 0);
  expect(count("TooManyConcurrentRequests")).toBeGreaterThan(0);
  expect(count("OptimisticConcurrencyControlFailure")).toBeGreaterThan(0);
}

describe("under load", () => {
  it("backfill › 40 jobs through 429 TooManyConcurrentRequests and 503 OCC: all in sync, none failed, no marker", async () => {
    const jobs = Array.from({ length: 40 }, () => new PipelineJob(h.jobsDir, { pngBytes: 8_000 }));
    for (const j of jobs) await j.runToSuccess();
    const config = h.config({ concurrency: 8 });
    const { summary, fatal } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
    expect(fatal).toBeNull();
    expect(summary.failed).toEqual([]);
    expect(summary.stuck).toEqual([]);
    expect(summary.inSync + summary.syncedNow).toBe(40);
    expect(await notMirrored(h, jobs, assetsOf(jobs))).toEqual([]);
    await expectNoMarkers(jobs);
    expectLoadWasFelt();
  });

  it("watch › 20 jobs written live through the same load: all mirrored, no marker, the daemon keeps running", async () => {
    const config = h.config({ concurrency: 8 });
    const daemon = new WatchDaemon({ config, gateway: h.gateway(config), backend: new FallbackWatchBackend(), log: h.log });
    const jobs = Array.from({ length: 20 }, () => new PipelineJob(h.jobsDir, { pngBytes: 8_000 }));
    try {
      await daemon.start();
      await daemon.whenReady();
      await Promise.all(jobs.map((j) => j.runToSuccess()));
      await waitFor(async () => (await notMirrored(h, jobs, assetsOf(jobs))).length === 0, {
        what: "every job mirrored",
        timeoutMs: 30_000,
      });
      await expectNoMarkers(jobs);
      expectLoadWasFelt();
    } finally {
      await daemon.stop(5_000);
    }
  });
});
