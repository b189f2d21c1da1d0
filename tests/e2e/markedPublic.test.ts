/**
 * The public view never lies: a job whose job.json carries a failure marker reads "failed" in
 * public as soon as the deployment is reachable — the marker's error, no retryAfter, no
 * component, exactly what job.json says — and `retry` or a later pipeline rewrite puts the real
 * state back. `status` and `verify` both call such a job parked.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { clearFailureMarker } from "../../src/local/failureMarker.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { collectStatus } from "../../src/ops/collectStatus.js";
import { verifyJobs } from "../../src/ops/verifyJobs.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const record = async (j: PipelineJob) => parsePythonJson(await readFile(path.join(j.dir, "job.json"), "utf8")) as Record<string, unknown>;
const backfill = (ids: string[]) => runBackfill({ config: h.config(), gateway: h.gateway(), log: h.log, jobIds: ids });

async function expectPublicFailedAsMarked(j: PipelineJob): Promise<void> {
  const rec = await record(j);
  expect(rec.status).toBe("failed");
  expect(rec.component).toBeNull();
  expect(rec.retry_after).toBeUndefined();
  const pub = await h.getPublicRaw(j.id);
  expect(pub).toEqual({ jobId: j.id, status: "failed", error: rec.error, component: null });
  expect(String(pub!.error)).toMatch(
    new RegExp(`^\\[TraceID: ${j.id}\\] Convex sync failed: \\[ASSET_MISSING|^\\[TraceID: ${j.id}\\] Convex sync failed: \\[VALUE_LIMIT`),
  );
  // Nothing internal in the public reason: no absolute path, no stack.
  expect(String(pub!.error)).not.toMatch(/\/tmp\/|\/srv\/| at .*\.ts:\d+/);
}

describe("marked jobs in public", () => {
  it("marked › a job never committed before reads failed in public right after its marker, and retry brings its real state back", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    const debug = path.join(j.dir, "outputs", `${j.name}_debug.png`);
    const bytes = await readFile(debug);
    await rm(debug);
    const { summary } = await backfill([j.id]);
    expect(summary.failed.map((f) => [f.code, f.marker])).toEqual([["ASSET_MISSING", "written"]]);
    await expectPublicFailedAsMarked(j);

    const status = await collectStatus({ config: h.config(), gateway: h.gateway(), jobIds: [j.id] });
    expect(status.entries[0]!.state).toBe("parked");
    const verified = await verifyJobs({ config: h.config(), gateway: h.gateway(), jobIds: [j.id] });
    expect(verified.counts).toEqual({ ok: 0, mismatch: 0, parked: 1, unreadable: 0 });

    await writeFile(debug, bytes);
    expect(await clearFailureMarker(j.dir, j.id)).toBe("cleared");
    expect((await backfill([j.id])).summary.syncedNow).toBe(1);
    const pub = await h.getPublic(j.id);
    expect(pub!.status).toBe("succeeded");
    expect(pub!.error).toBeNull();
    expect(Object.keys((pub!.component as { assets: object }).assets)).toEqual(j.assetNames);
    const after = await verifyJobs({ config: h.config(), gateway: h.gateway(), jobIds: [j.id] });
    expect(after.counts.ok).toBe(1);
  });

  it("marked › a job shown succeeded before is shown failed once marked, and a pipeline rewrite puts its new state back", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    expect((await backfill([j.id])).summary.syncedNow).toBe(1);
    expect((await h.getPublic(j.id))!.status).toBe("succeeded");
    // The pipeline re-runs the job, which loses a listed output: the daemon marks it.
    await j.running();
    await j.processing();
    await rm(path.join(j.dir, "outputs", `${j.name}_mask.png`));
    await j.succeeded();
    const { summary } = await backfill([j.id]);
    expect(summary.failed.map((f) => f.code)).toEqual(["ASSET_MISSING"]);
    await expectPublicFailedAsMarked(j);
    // The pipeline moves the job on: its newer record is public again, marker or not.
    j.record.component = null;
    await j.failed("Rate Limit Exceeded. Please try again later.", 30);
    await backfill([j.id]);
    const pub = await h.getPublic(j.id);
    expect(pub).toMatchObject({
      status: "failed",
      error: `[TraceID: ${j.id}] Rate Limit Exceeded. Please try again later.`,
      retryAfter: 30,
    });
  });

  it("marked › a record over Convex's limits is marked VALUE_LIMIT and still read failed in public", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    const file = path.join(j.dir, "job.json");
    const rec = await record(j);
    rec.telemetry = { samples: Array.from({ length: 9_000 }, (_, i) => i) };
    await writeFile(file, JSON.stringify(rec, null, 2));
    const { summary } = await backfill([j.id]);
    expect(summary.failed.map((f) => [f.code, f.marker])).toEqual([["VALUE_LIMIT", "written"]]);
    expect(summary.failed[0]!.reason).toContain("telemetry.samples");
    await expectPublicFailedAsMarked(j);
  });
});
