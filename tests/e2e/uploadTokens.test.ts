/**
 * An upload URL the deployment no longer takes (401 StorageTokenInvalid here; InvalidStorageToken
 * and StorageTokenExpired are classified alike, see classifyError's tests) costs a fresh URL,
 * never a fatal UNAUTHORIZED.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import type { ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe("upload tokens", () => {
  it("backfill › upload URLs whose token the deployment refuses (401 StorageTokenInvalid) are replaced by fresh ones; the job syncs", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    // Wraps the stand-in's gateway: the refusal (401 StorageTokenInvalid) is the stand-in's own.
    const real = h.gateway();
    let batches = 0;
    const gateway = Object.assign(Object.create(real) as ConvexGateway, {
      generateUploadUrls: async (count: number) => {
        const urls = await real.generateUploadUrls(count);
        if (batches++ > 0) return urls;
        // The first batch is no good: tokens the deployment cannot decode.
        return urls.map((u) => {
          const url = new URL(u);
          url.searchParams.set("token", "made-up");
          return url.toString();
        });
      },
    });
    const { summary, fatal } = await runBackfill({ config: h.config(), gateway, log: h.log, jobIds: [j.id] });
    expect(fatal).toBeNull();
    expect(summary.failed).toEqual([]);
    expect(summary.syncedNow).toBe(1);
    expect(batches).toBeGreaterThan(1);
  });
});
