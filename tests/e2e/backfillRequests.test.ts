/**
 * A backfill's requests beyond its uploads, counted by the deployment: jobs reaching their
 * commit together share one `sync:commitMany`, so a history costs well under one request per
 * job besides its files, at a latency like a real deployment's. The workload is the issue's
 * (100 finished jobs at 25 ms a call): on fewer jobs the bound leaves no room for the one extra
 * batch a loaded machine can cause (a commit waits for company at most COMMIT_MAX_WAIT_MS, so
 * slow uploads split a batch), which is the batcher working as designed, not a cost per job.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

const JOBS = 100;
const LATENCY_MS = 25;

let h: Harness;
beforeEach(async () => {
  h = await createHarness({ latencyMs: LATENCY_MS });
});
afterEach(async () => {
  await h.cleanup();
});

/** Requests the stand-in answered, by function, and the uploads among them. */
function requests(): { functions: Record<string, number>; uploads: number; refused: number } {
  const functions: Record<string, number> = {};
  let uploads = 0;
  let refused = 0;
  for (const [key, byStatus] of Object.entries(h.standin.stats().requests)) {
    const [method, route, fn] = key.split(" ");
    if (method !== "POST" || !route!.startsWith("/api/")) continue;
    const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
    if (route === "/api/storage/upload") {
      uploads += n;
      continue;
    }
    // Refused before they ran (concurrency 429, OCC 503: the stand-in under load): retried.
    refused += (byStatus["429"] ?? 0) + (byStatus["503"] ?? 0);
    functions[fn!] = (functions[fn!] ?? 0) + n;
  }
  return { functions, uploads, refused };
}

describe("backfill requests", () => {
  it(`backfill › ${JOBS} jobs at ${LATENCY_MS} ms a call cost at most 0.2 requests per job beyond their uploads`, async () => {
    const jobs = Array.from({ length: JOBS }, (_, i) => new PipelineJob(h.jobsDir, { pngBytes: 4_000, withMask: i % 2 === 0 }));
    for (const j of jobs) await j.runToSuccess();
    const config = h.config();
    const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
    expect(summary.syncedNow).toBe(JOBS);
    const { functions, uploads, refused } = requests();
    expect(uploads).toBe(summary.filesUploaded);
    const beyondUploads = Object.values(functions).reduce((a, b) => a + b, 0) - refused;
    expect(beyondUploads / JOBS, JSON.stringify(functions)).toBeLessThanOrEqual(0.2);
    // The commits went out in batches, and every job was committed.
    expect(functions["sync:commitMany"] ?? 0).toBeGreaterThan(0);
    expect(
      h.standin
        .commits()
        .map((c) => c.jobId)
        .sort(),
    ).toEqual(jobs.map((j) => j.id).sort());
  });
});
