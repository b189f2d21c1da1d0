/**
 * A job with many files is no permanent failure: 200 files commit in one atomic commit, within
 * Convex's per-transaction limits (the stand-in enforces them).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { makePng } from "../helpers/png.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe("big jobs", () => {
  it("backfill › a job with 200 files syncs whole in one commit", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 1_000 });
    await j.runToSuccess();
    const extra = 200 - j.assetNames.length - 1; // its outputs and the trace, plus these
    for (let i = 0; i < extra; i++) await writeFile(path.join(j.dir, "outputs", `frame_${i}.png`), makePng(4, 4, i));
    const { summary } = await runBackfill({ config: h.config(), gateway: h.gateway(), log: h.log, jobIds: [j.id] });
    expect(summary.failed).toEqual([]);
    expect(summary.stuck).toEqual([]);
    expect(summary.syncedNow).toBe(1);
    expect(summary.filesUploaded).toBe(200);
    expect(summary.requestsByFunction["sync:commit"]).toBe(1);
    const [state] = (await h.client.query(makeFunctionReference<"query">("sync:getStates"), {
      serviceToken: h.token,
      jobIds: [j.id],
    })) as Array<{ assets: unknown[] }>;
    expect(state!.assets).toHaveLength(200);
  });
});
