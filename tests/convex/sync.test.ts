/**
 * The daemon's surface: `sync:commit` (atomic, idempotent, monotonic, deletes what it
 * replaces), `sync:getStates` (what diffing needs) and `sync:handshake`.
 */
import { createHash } from "node:crypto";
import { isoToMicros } from "../../convex/lib/time.js";
import { convexTest } from "convex-test";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import schema from "../../convex/schema.js";
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import { type AssetInput, type JobRecordInput, remoteStateOf } from "../../convex/lib/jobStore.js";
import {
  assetFor,
  blobExists,
  type ConvexHarness,
  countRows,
  expectConvexError,
  hashed,
  listedFilenames,
  loadSample,
  newConvexTest,
  planShapeOf,
  type Sample,
  snapshotTables,
  storageUrl,
  storeBlob,
  TOKEN,
  useFixedClock,
  useServiceToken,
  publicOf,
  withComponent,
  componentOf,
  modules,
} from "./convexHarness.js";

useServiceToken();

useFixedClock();

const processing = loadSample("03-processing.job.json");
const succeeded = loadSample("04-succeeded.job.json");
const queued = loadSample("01-queued.job.json");
const jobId = succeeded.job.jobId;
const PNG = "ivy_sign_frame.png";
const MASK = "ivy_sign_frame_mask.png";
const DEBUG = "ivy_sign_frame_debug.png";
const TRACE = "trace.json";

/** A sample's record and hash, without the raw job.json. */
function rec(s: Sample): { job: JobRecordInput; recordHash: string } {
  return { job: s.job, recordHash: s.recordHash };
}

type Commit = { job: JobRecordInput; recordHash: string; sourceHash?: string; assets: AssetInput[]; removeFilenames?: string[] };

async function commit(t: ConvexHarness, c: Commit) {
  return await t.mutation(api.sync.commit, { serviceToken: TOKEN, ...c });
}

/** Uploads one blob per filename (content tagged so every blob is distinct) and returns the rows. */
async function upload(t: ConvexHarness, filenames: string[], tag: string): Promise<Record<string, AssetInput>> {
  const out: Record<string, AssetInput> = {};
  for (const f of filenames) out[f] = assetFor(f, await storeBlob(t, `${tag}:${f}`), { sha256: `${tag}:${f}` });
  return out;
}

/** State A: 03-processing committed with its three PNGs and the trace. */
async function committedProcessing(t: ConvexHarness) {
  const rows = await upload(t, [PNG, MASK, DEBUG, TRACE], "A");
  const result = await commit(t, { job: processing.job, recordHash: processing.recordHash, assets: Object.values(rows) });
  expect(result).toMatchObject({ outcome: "created", assetsChanged: 4, assetsRemoved: 0 });
  // The state the commit answers with is the one `sync:getStates` serves from now on.
  const [stored] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [processing.job.jobId] });
  expect(result.state).toEqual(stored);
  expect(result.state?.assets).toHaveLength(4);
  return rows;
}

async function assetRow(t: ConvexHarness, filename: string) {
  return await t.run(async (ctx) =>
    ctx.db
      .query("jobAssets")
      .withIndex("by_job", (q) => q.eq("jobId", jobId).eq("filename", filename))
      .unique(),
  );
}

async function eventKinds(t: ConvexHarness): Promise<string[]> {
  return await t.run(async (ctx) =>
    (await ctx.db.query("jobEvents").collect()).map((e) => `${e.kind}${e.payload?.filename ? `:${e.payload.filename}` : ""}`),
  );
}

describe("sync:commit", () => {
  test("sync:commit › makes getPublic return a URL for exactly the listed filenames, never the trace", async () => {
    const t = newConvexTest();
    const rows = await committedProcessing(t);
    const pub = await publicOf(t, jobId);
    expect(Object.keys(pub.component.assets!).sort()).toEqual(listedFilenames(processing.job).sort());
    for (const f of [PNG, MASK, DEBUG]) {
      expect(pub.component.assets![f]).toBe(await storageUrl(t, rows[f]!.storageId));
    }
    const traceUrl = await storageUrl(t, rows[TRACE]!.storageId);
    expect(JSON.stringify(pub)).not.toContain(traceUrl!);
    expect(JSON.stringify(pub)).not.toContain("trace");
  });

  test("sync:commit › a listed file without an asset throws MISSING_ASSET and rolls everything back", async () => {
    const t = newConvexTest();
    await committedProcessing(t);
    const replacement = await upload(t, [PNG], "B");
    const job = withComponent(succeeded.job, {
      ...componentOf(succeeded.job),
      assets: { [PNG]: null, [MASK]: null, [DEBUG]: null, "ivy_sign_frame_glow.png": null },
    });
    const before = await snapshotTables(t);
    const data = await expectConvexError(
      commit(t, { ...hashed(job), assets: [replacement[PNG]!], removeFilenames: [TRACE] }),
      "MISSING_ASSET",
    );
    expect(data).toMatchObject({ jobId, filename: "ivy_sign_frame_glow.png" });
    expect(data.message).toContain("ivy_sign_frame_glow.png");
    // The record, the replaced PNG's row and old blob, the trace row and blob, the events:
    // all exactly as before.
    expect(await snapshotTables(t)).toEqual(before);
  });

  test("sync:commit › a first commit missing an asset leaves no record behind", async () => {
    const t = newConvexTest();
    const rows = await upload(t, [PNG, DEBUG], "A");
    const before = await snapshotTables(t);
    await expectConvexError(commit(t, { ...rec(succeeded), assets: Object.values(rows) }), "MISSING_ASSET");
    expect(await snapshotTables(t)).toEqual(before);
    expect(await t.query(api.jobs.getPublic, { jobId })).toBeNull();
  });

  test("sync:commit › replaying the same commit is a no-op: unchanged, no events, no blob deleted", async () => {
    const t = newConvexTest();
    const rows = await upload(t, [PNG, MASK, DEBUG, TRACE], "A");
    const c = { job: succeeded.job, recordHash: succeeded.recordHash, assets: Object.values(rows), removeFilenames: ["gone.png"] };
    await commit(t, c);
    const before = await snapshotTables(t);
    expect(await commit(t, c)).toMatchObject({ outcome: "unchanged", assetsChanged: 0, assetsRemoved: 0 });
    expect(await snapshotTables(t)).toEqual(before);
  });

  test("sync:commit › stores the job.json fingerprint; a new one for the same record changes nothing else", async () => {
    const t = newConvexTest();
    const rows = await upload(t, [PNG, MASK, DEBUG, TRACE], "A");
    const c = { job: succeeded.job, recordHash: succeeded.recordHash, assets: Object.values(rows) };
    await commit(t, { ...c, sourceHash: "bytes-1" });
    let [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state).toMatchObject({ sourceHash: "bytes-1", status: "succeeded" });

    const events = await eventKinds(t);
    expect(await commit(t, { ...c, sourceHash: "bytes-2" })).toMatchObject({ outcome: "unchanged", assetsChanged: 0, assetsRemoved: 0 });
    [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state!.sourceHash).toBe("bytes-2");
    expect(await eventKinds(t)).toEqual(events);

    // A writer without fingerprints (the plan's jobs:upsert) replaces the row in its own shape:
    // the fingerprints no longer describe it, so they go (the daemon re-checks by content).
    await t.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...planShapeOf(succeeded.job), prompt: "changed" });
    [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state).toMatchObject({ sourceHash: null, recordHash: null });
  });

  test("sync:commit › replacing an asset's blob deletes the old blob and keeps the others", async () => {
    const t = newConvexTest();
    const a = await committedProcessing(t);
    const b = await upload(t, [DEBUG], "B");
    const result = await commit(t, { ...rec(succeeded), assets: [a[PNG]!, a[MASK]!, b[DEBUG]!] });
    expect(result).toMatchObject({ outcome: "updated", assetsChanged: 1, assetsRemoved: 0 });
    expect(await blobExists(t, a[DEBUG]!.storageId)).toBe(false);
    expect(await blobExists(t, b[DEBUG]!.storageId)).toBe(true);
    for (const f of [PNG, MASK, TRACE]) expect(await blobExists(t, a[f]!.storageId)).toBe(true);
    expect(await assetRow(t, DEBUG)).toMatchObject({ storageId: b[DEBUG]!.storageId, sha256: `B:${DEBUG}` });
    expect((await eventKinds(t)).slice(-2)).toEqual([`asset_replaced:${DEBUG}`, "updated"]);
    const pub = await publicOf(t, jobId);
    expect(pub.component.assets![DEBUG]).toBe(await storageUrl(t, b[DEBUG]!.storageId));
  });

  test("sync:commit › a changed file under an unchanged record replaces its blob (outcome unchanged)", async () => {
    const t = newConvexTest();
    const a = await committedProcessing(t);
    const b = await upload(t, [PNG], "B");
    const result = await commit(t, { ...rec(processing), assets: [b[PNG]!] });
    expect(result).toMatchObject({ outcome: "unchanged", assetsChanged: 1, assetsRemoved: 0 });
    expect(await blobExists(t, a[PNG]!.storageId)).toBe(false);
    expect(await assetRow(t, PNG)).toMatchObject({ storageId: b[PNG]!.storageId });
  });

  test("sync:commit › a stale commit is ignored whole: fresh uploads deleted, referenced blobs kept", async () => {
    const t = newConvexTest();
    const rowsA = await upload(t, [PNG, MASK, DEBUG], "A");
    await commit(t, { ...rec(succeeded), assets: Object.values(rowsA) });
    const fresh = await upload(t, [PNG, DEBUG], "stale");
    const before = await snapshotTables(t);
    const result = await commit(t, {
      ...rec(processing), // older updated_at than 04-succeeded
      assets: [
        fresh[PNG]!,
        fresh[DEBUG]!,
        rowsA[MASK]!, // the blob the mask row already references
        { ...rowsA[MASK]!, filename: "other_name.png" }, // referenced, but by another filename
      ],
      removeFilenames: [MASK],
    });
    expect(result).toMatchObject({ outcome: "stale", assetsChanged: 0, assetsRemoved: 0 });
    // The daemon is told what the deployment holds: the newer record, not the stale commit's.
    const [stored] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [succeeded.job.jobId] });
    expect(result.state).toEqual(stored);
    expect(result.state?.status).toBe("succeeded");
    expect(await blobExists(t, fresh[PNG]!.storageId)).toBe(false);
    expect(await blobExists(t, fresh[DEBUG]!.storageId)).toBe(false);
    for (const f of [PNG, MASK, DEBUG]) expect(await blobExists(t, rowsA[f]!.storageId)).toBe(true);
    const after = await snapshotTables(t);
    // Only the audit event and the deleted fresh blobs differ.
    expect(after.jobs).toEqual(before.jobs);
    expect(after.jobAssets).toEqual(before.jobAssets);
    expect(after._storage).toEqual(
      before._storage!.filter((b) => ![fresh[PNG]!.storageId, fresh[DEBUG]!.storageId].includes((b as { _id: Id<"_storage"> })._id)),
    );
    expect((await eventKinds(t)).at(-1)).toBe("stale_ignored");
    expect(after.jobEvents).toHaveLength(before.jobEvents!.length + 1);
  });

  test("sync:commit › removeFilenames deletes rows and blobs, but never one the component lists", async () => {
    const t = newConvexTest();
    const a = await committedProcessing(t);
    const { [MASK]: _mask, ...assetsWithoutMask } = (componentOf(succeeded.job) as { assets: Record<string, null> }).assets;
    const job = withComponent(succeeded.job, { ...componentOf(succeeded.job), assets: assetsWithoutMask });
    const result = await commit(t, {
      ...hashed(job),
      assets: [],
      removeFilenames: [MASK, TRACE, PNG, "never-existed.png"],
    });
    expect(result).toMatchObject({ outcome: "updated", assetsChanged: 0, assetsRemoved: 2 });
    expect(await assetRow(t, MASK)).toBeNull();
    expect(await assetRow(t, TRACE)).toBeNull();
    expect(await blobExists(t, a[MASK]!.storageId)).toBe(false);
    expect(await blobExists(t, a[TRACE]!.storageId)).toBe(false);
    expect(await assetRow(t, PNG)).toMatchObject({ storageId: a[PNG]!.storageId });
    expect(await blobExists(t, a[PNG]!.storageId)).toBe(true);
    expect(await eventKinds(t)).toEqual(expect.arrayContaining([`asset_removed:${MASK}`, `asset_removed:${TRACE}`]));
    const pub = await publicOf(t, jobId);
    expect(Object.keys(pub.component.assets!).sort()).toEqual([DEBUG, PNG].sort());
  });

  test("sync:commit › a blob that no longer exists is UNKNOWN_STORAGE_ID and nothing is written", async () => {
    const t = newConvexTest();
    const rows = await upload(t, [PNG, MASK, DEBUG], "A");
    await t.run(async (ctx) => ctx.storage.delete(rows[MASK]!.storageId));
    const before = await snapshotTables(t);
    const data = await expectConvexError(commit(t, { ...rec(succeeded), assets: Object.values(rows) }), "UNKNOWN_STORAGE_ID");
    expect(data).toMatchObject({ jobId, filename: MASK });
    expect(await snapshotTables(t)).toEqual(before);
  });

  test("sync:commit › accepts 256 assets within Convex's transaction limits and refuses 257 with INVALID_ARGUMENT, writing nothing", async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    const names = Array.from({ length: 257 }, (_, i) => `extra_${i}.png`);
    const rows = Object.values(await upload(t, names, "many"));
    const before = await snapshotTables(t);
    const data = await expectConvexError(commit(t, { ...rec(queued), assets: rows }), "INVALID_ARGUMENT");
    // The bound is ours, not the job's data: no jobId, so the daemon never marks the job for it.
    expect(data).toMatchObject({ field: "assets" });
    expect(data).not.toHaveProperty("jobId");
    expect(data.message).toContain("257");
    expect(data.message).toContain(jobId);
    expect(await snapshotTables(t)).toEqual(before);
    expect(await commit(t, { ...rec(queued), assets: rows.slice(0, 256) })).toMatchObject({
      outcome: "created",
      assetsChanged: 256,
      assetsRemoved: 0,
    });
    const [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state!.assets).toHaveLength(256);
  });

  test("sync:commit › a queued record (component null) commits with no assets", async () => {
    const t = newConvexTest();
    expect(await commit(t, { ...rec(queued), assets: [] })).toMatchObject({ outcome: "created", assetsChanged: 0, assetsRemoved: 0 });
    expect(await t.query(api.jobs.getPublic, { jobId })).toEqual({ jobId, status: "queued", error: null, component: null });
  });
});

describe("sync:getStates", () => {
  test("sync:getStates › returns null for unknown ids and each job's assets, in the order asked", async () => {
    const t = newConvexTest();
    const a = await committedProcessing(t);
    const other = hashed({ ...queued.job, jobId: "other-job" });
    await commit(t, { ...other, assets: [] });
    const states = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: ["other-job", "missing", jobId] });
    expect(states).toHaveLength(3);
    expect(states[0]).toEqual({
      jobId: "other-job",
      updatedAtUs: 1_795_183_391_483_102,
      recordHash: other.recordHash,
      sourceHash: null,
      status: queued.job.status,
      assets: [],
    });
    expect(states[1]).toBeNull();
    expect(states[2]).toMatchObject({ jobId, updatedAtUs: isoToMicros(processing.job.updatedAtIso), recordHash: processing.recordHash });
    const assets = [...states[2]!.assets].sort((x, y) => x.filename.localeCompare(y.filename));
    expect(assets).toEqual(
      [DEBUG, MASK, PNG, TRACE].map((f) => ({
        role: a[f]!.role,
        filename: f,
        storageId: a[f]!.storageId,
        contentType: a[f]!.contentType,
        bytes: a[f]!.bytes,
        sha256: `A:${f}`,
        sourceMtimeMs: a[f]!.sourceMtimeMs,
      })),
    );
  });

  test("sync:getStates › a row saved without a hash reads the blob's own sha256 (as hex), without an mtime null", async () => {
    const t = newConvexTest();
    await commit(t, { ...rec(queued), assets: [] });
    const storageId = await storeBlob(t, "seed");
    await t.mutation(api.assets.save, {
      serviceToken: TOKEN,
      jobId,
      role: "output_png",
      filename: PNG,
      storageId,
      contentType: "image/png",
      bytes: 4,
    });
    const [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state!.assets).toEqual([
      {
        role: "output_png",
        filename: PNG,
        storageId,
        contentType: "image/png",
        bytes: 4,
        sha256: createHash("sha256").update("seed").digest("hex"),
        sourceMtimeMs: null,
      },
    ]);
  });

  test("sync:getStates › serves the kept state, equal to the tables after every kind of write", async () => {
    const t = newConvexTest();
    const other = hashed({ ...queued.job, jobId: "other-job" });
    const served = async () => (await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId, "other-job"] }))[0];
    const computed = async () => await t.run(async (ctx) => await remoteStateOf(ctx, jobId));
    const kept = async () =>
      await t.run(
        async (ctx) =>
          await ctx.db
            .query("jobSyncStates")
            .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
            .unique(),
      );
    const expectInStep = async (what: string) => {
      const state = await computed();
      expect(await served(), what).toEqual(state);
      if (state !== null) expect(await kept(), what).toMatchObject(state);
    };

    await expectInStep("nothing yet");
    await commit(t, { ...other, assets: [] });
    await expectInStep("another job's commit");
    const a = await committedProcessing(t);
    await expectInStep("created");
    const b = await upload(t, [DEBUG], "B");
    await commit(t, { ...rec(succeeded), sourceHash: "s1", assets: [a[PNG]!, a[MASK]!, b[DEBUG]!] });
    await expectInStep("updated, a blob replaced");
    await commit(t, { ...rec(succeeded), sourceHash: "s2", assets: [] });
    await expectInStep("only the fingerprint");
    await commit(t, { ...rec(succeeded), assets: [], removeFilenames: [TRACE] });
    await expectInStep("an asset removed");
    await commit(t, { ...rec(processing), assets: [] });
    await expectInStep("a stale commit");
    const c = await upload(t, [PNG], "C");
    await t.mutation(api.assets.save, { serviceToken: TOKEN, jobId, ...c[PNG]! });
    await expectInStep("the seed's assets:save");
    await t.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...planShapeOf(succeeded.job), prompt: "changed" });
    await expectInStep("the seed's jobs:upsert");

    // A job written before the kept state existed is served from the tables.
    await t.run(async (ctx) => {
      const k = await ctx.db
        .query("jobSyncStates")
        .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
        .unique();
      await ctx.db.delete(k!._id);
    });
    expect(await served()).toEqual(await computed());
  });

  test("sync:getStates › accepts 128 ids and refuses 129 with INVALID_ARGUMENT", async () => {
    const t = newConvexTest();
    const ids = Array.from({ length: 129 }, (_, i) => `job-${i}`);
    const states = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: ids.slice(0, 128) });
    expect(states).toEqual(new Array(128).fill(null));
    const data = await expectConvexError(t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: ids }), "INVALID_ARGUMENT");
    expect(data).toMatchObject({ field: "jobIds" });
    expect(data.message).toContain("129");
  });
});

describe("sync:handshake", () => {
  test("sync:handshake › returns the API version and the server clock", async () => {
    const t = newConvexTest();
    expect(await t.query(api.sync.handshake, { serviceToken: TOKEN })).toEqual({
      apiVersion: API_VERSION,
      serverTimeMs: Date.parse("2026-11-20T15:00:00Z"),
    });
    expect(await countRows(t, "jobs")).toBe(0);
  });
});
