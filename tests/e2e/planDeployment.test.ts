/**
 * A deployment the plan's in-process sync filled, taken over by the daemon: rows stored as the
 * plan's functions stored them (epoch-ms numbers, component objects, no hashes, no sync state,
 * the plan's jobEvents), validated under this schema on insert, looked at through the
 * stand-in's export (`GET /_standin/export?table=`), then backfilled with the same job folders
 * before and after the migrations: nothing is uploaded twice. And the plan's own client flow
 * with the earlier Python client's payloads, through the official client.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import type { Value } from "convex/values";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isoToMicros, isoToMillis } from "../../convex/lib/time.js";
import { backfillExitCode, runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { loadPlanExport, planDeployment } from "../fixtures/plan/planExport.js";
import payloads from "../fixtures/plan/pythonClientPayloads.json" with { type: "json" };
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, download, type Harness, sha256, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const getStates = makeFunctionReference<"query">("sync:getStates");

/** A succeeded job on disk: record, outputs, no trace (the plan's sync mirrored the outputs only). */
async function succeededJob(): Promise<PipelineJob> {
  const j = new PipelineJob(h.jobsDir);
  await j.queued();
  await j.running();
  await j.processing();
  await j.succeeded();
  return j;
}

function roleOf(filename: string): string {
  return filename.endsWith("_mask.png") ? "mask_png" : filename.endsWith("_debug.png") ? "debug_png" : "output_png";
}

/**
 * The rows the plan's functions wrote for these jobs, written under the plan's schema, exported
 * with their blobs and loaded into the stand-in (validated under this schema on insert).
 */
async function seedPlanRows(...jobs: PipelineJob[]): Promise<void> {
  const records: Array<{ job: PipelineJob; rec: Record<string, unknown>; files: Array<{ filename: string; bytes: Buffer }> }> = [];
  for (const job of jobs) {
    const rec = parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
    const outputs = path.join(job.dir, "outputs");
    const files = [];
    for (const filename of (await readdir(outputs)).sort()) files.push({ filename, bytes: await readFile(path.join(outputs, filename)) });
    records.push({ job, rec, files });
  }
  const data = await planDeployment(async (ctx) => {
    for (const { job, rec, files } of records) {
      const updatedAt = isoToMillis(String(rec.updated_at))!;
      await ctx.db.insert("jobs", {
        jobId: job.id,
        status: String(rec.status),
        progressStage: rec.progress_stage as string,
        prompt: String(rec.prompt),
        styleContext: rec.style_context as string,
        name: rec.name as string,
        layoutIntent: rec.layout_intent as string,
        renderSizeHint: (rec.render_size_hint as number | undefined) ?? null,
        internalAssetType: String(rec.type),
        component: rec.component as Value,
        telemetry: (rec.telemetry as Value | undefined) ?? null,
        error: rec.error as string | null,
        retryAfter: (rec.retry_after as number | undefined) ?? null,
        createdAt: isoToMillis(String(rec.created_at))!,
        updatedAt,
      });
      for (const f of files) {
        const storageId = await ctx.storage.store(new Blob([f.bytes], { type: "image/png" }));
        await ctx.db.insert("jobAssets", {
          jobId: job.id,
          role: roleOf(f.filename),
          filename: f.filename,
          storageId,
          contentType: "image/png",
          bytes: f.bytes.length,
          createdAt: updatedAt,
        });
      }
      await ctx.db.insert("jobEvents", { jobId: job.id, kind: "status_changed", payload: { to: "succeeded" }, createdAt: updatedAt });
    }
  });
  await loadPlanExport(h.standin.engine.convex as never, data);
}

async function exported(table: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${h.standin.url}/_standin/export?table=${table}`);
  expect(res.status).toBe(200);
  return (await res.text())
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function backfill() {
  const config = h.config();
  const { summary, fatal } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
  return { summary, code: backfillExitCode(summary, fatal) };
}

/** The deployment's state and public view match the disk: record version, every file's hash and bytes. */
async function expectInSync(job: PipelineJob): Promise<void> {
  const rec = parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
  const [state] = (await h.client.query(getStates, { serviceToken: h.token, jobIds: [job.id] })) as Array<{
    updatedAtUs: number;
    recordHash: string | null;
    assets: Array<{ filename: string; sha256: string | null; sourceMtimeMs: number | null }>;
  }>;
  expect(state!.updatedAtUs).toBe(isoToMicros(String(rec.updated_at)));
  expect(state!.recordHash).not.toBeNull();
  for (const name of job.assetNames) {
    const local = await readFile(path.join(job.dir, "outputs", name));
    const row = state!.assets.find((a) => a.filename === name);
    expect(row?.sha256, name).toBe(sha256(local));
    expect(row?.sourceMtimeMs, name).not.toBeNull();
    const pub = await h.getPublic(job.id);
    const url = (pub!.component as { assets: Record<string, string> }).assets[name]!;
    expect(sha256((await download(url)).bytes), name).toBe(sha256(local));
  }
}

describe("taking over a deployment the plan's sync filled", () => {
  it("export › stores the plan's types: epoch-ms numbers, no fields of this project", async () => {
    await seedPlanRows(await succeededJob());
    const [row] = await exported("jobs");
    expect(typeof row!.createdAt).toBe("number");
    expect(typeof row!.updatedAt).toBe("number");
    expect(row).not.toHaveProperty("updatedAtUs");
    expect(row).not.toHaveProperty("recordHash");
    expect((await exported("jobAssets")).every((a) => typeof a.createdAt === "number" && !("sha256" in a))).toBe(true);
    expect(await exported("jobSyncStates")).toEqual([]);
    const bad = await fetch(`${h.standin.url}/_standin/export?table=${encodeURIComponent("../x")}`);
    expect(bad.status).toBe(400);
  });

  it("backfill › over unmigrated plan rows uploads nothing, fills hashes and versions, and every job is in sync", async () => {
    const jobs = [await succeededJob(), await succeededJob(), await succeededJob()];
    await seedPlanRows(...jobs);
    const blobs = h.standin.stats().blobs.count;
    const { summary, code } = await backfill();
    expect(code).toBe(0);
    expect(summary.filesUploaded).toBe(0);
    expect(h.standin.stats().blobs.count).toBe(blobs);
    for (const j of jobs) await expectInSync(j);
    // The timeline the plan wrote is kept; the daemon's takeover adds its own bookkeeping.
    const events = await exported("jobEvents");
    expect(events.filter((e) => e.kind === "status_changed")).toHaveLength(3);
    // And a second run finds everything in sync by fingerprint.
    const again = await backfill();
    expect(again.summary.inSyncByFingerprint).toBe(3);
  });

  it("backfill › after migrations:runAll (run as `npx convex run` would), still nothing uploaded twice", async () => {
    const jobs = [await succeededJob(), await succeededJob()];
    await seedPlanRows(...jobs);
    await h.standin.engine.runFunction("mutation", "migrations:runAll");
    await waitFor(
      async () =>
        (await exported("jobSyncStates")).length === 2 && (await exported("jobAssets")).every((a) => typeof a.sha256 === "string"),
      { what: "the migrations to finish" },
    );
    expect((await exported("jobs")).every((j) => typeof j.updatedAtUs === "number")).toBe(true);
    const { summary, code } = await backfill();
    expect(code).toBe(0);
    expect(summary.filesUploaded).toBe(0);
    for (const j of jobs) await expectInSync(j);
  });
});

describe("the plan's client flow, with the earlier Python client's payloads", () => {
  it("upsert → generateUploadUrl → raw POST → save → getPublic, through the official client", async () => {
    const upsert = makeFunctionReference<"mutation">("jobs:upsert");
    const uploadUrl = makeFunctionReference<"mutation">("assets:generateUploadUrl");
    const save = makeFunctionReference<"mutation">("assets:save");
    for (const payload of payloads.upserts) await h.client.mutation(upsert, { serviceToken: h.token, ...payload });
    const jobId = payloads.upserts[0]!.jobId;
    const sent = new Map<string, string>();
    for (const s of payloads.saves) {
      const bytes = Buffer.from(`png bytes of ${s.filename}`);
      const url = (await h.client.mutation(uploadUrl, { serviceToken: h.token })) as string;
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": s.contentType }, body: bytes });
      expect(res.status).toBe(200);
      const { storageId } = (await res.json()) as { storageId: string };
      await h.client.mutation(save, { serviceToken: h.token, jobId, storageId, bytes: bytes.length, ...s });
      sent.set(s.filename, sha256(bytes));
    }
    await h.client.mutation(upsert, { serviceToken: h.token, ...payloads.failedUpsert });

    const pub = await h.getPublic(jobId);
    expect(pub).toMatchObject({ jobId, status: "succeeded", error: null });
    expect(pub).not.toHaveProperty("retryAfter");
    const assets = (pub!.component as { assets: Record<string, string> }).assets;
    for (const [name, hash] of sent) expect(sha256((await download(assets[name]!)).bytes)).toBe(hash);
    expect(await h.getPublic(payloads.failedUpsert.jobId)).toMatchObject({ status: "failed", retryAfter: 60 });
    const [row] = (await exported("jobs")).filter((j) => j.jobId === jobId);
    expect(row).toMatchObject({ createdAt: 1795183391482, updatedAt: 1795183421377 });
  });
});
