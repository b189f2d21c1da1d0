/**
 * Monotonic writes of the daemon's `sync:commit` (instants compared to the microsecond, whatever
 * the offset; a replaced record keeps nothing of the old one) and `jobs:getPublic` over a
 * record written by the plan's `jobs:upsert`. The plan's shapes themselves: planContract.test.ts.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import {
  atInstant,
  type ConvexHarness,
  countRows,
  expectConvexError,
  hashed,
  loadSample,
  newConvexTest,
  planShapeOf,
  TOKEN,
  useServiceToken,
  publicOf,
} from "./convexHarness.js";

useServiceToken();

const succeeded = loadSample("04-succeeded.job.json");
/** The succeeded record without its component: a commit of it needs no asset rows. */
const record = hashed({ ...succeeded.job, componentJson: null });
const failed = loadSample("05-failed-rate-limit.job.json");
const jobId = succeeded.job.jobId;
/** 04-succeeded's updated_at: 2026-11-20T14:03:41.377820+00:00 */
const STORED_AT = succeeded.job.updatedAtIso;

async function commit(t: ConvexHarness, job: JobRecordInput, recordHash: string) {
  const { outcome } = await t.mutation(api.sync.commit, { serviceToken: TOKEN, job, recordHash, assets: [] });
  return { outcome };
}

async function storedRow(t: ConvexHarness) {
  return await t.run(async (ctx) =>
    ctx.db
      .query("jobs")
      .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
      .unique(),
  );
}

/** The succeeded sample at another instant, with a different name so the content differs. */
function variant(updatedAtIso: string, name = `variant at ${updatedAtIso}`) {
  return hashed({ ...atInstant(record.job, updatedAtIso), name });
}

async function seeded(): Promise<ConvexHarness> {
  const t = newConvexTest();
  expect(await commit(t, record.job, record.recordHash)).toEqual({ outcome: "created" });
  return t;
}

async function eventKinds(t: ConvexHarness): Promise<string[]> {
  return await t.run(async (ctx) => (await ctx.db.query("jobEvents").collect()).map((e) => e.kind));
}

describe("monotonic writes (sync:commit)", () => {
  test("sync:commit › creates the row with epoch-ms timestamps, the ISO text, the parsed instant and the hash", async () => {
    const t = await seeded();
    const row = await storedRow(t);
    expect(row).toMatchObject({
      jobId,
      createdAt: 1_795_183_391_482,
      updatedAt: 1_795_183_421_377,
      updatedAtIso: STORED_AT,
      updatedAtUs: 1_795_183_421_377_820,
      recordHash: record.recordHash,
    });
    const events = await t.run(async (ctx) => ctx.db.query("jobEvents").collect());
    expect(events.map((e) => [e.kind, e.payload])).toEqual([
      ["stage", { status: "succeeded", progressStage: "completed", updatedAt: STORED_AT }],
      ["created", { updatedAt: STORED_AT }],
    ]);
  });

  test("sync:commit › ignores an older record: outcome `stale`, row unchanged", async () => {
    const t = await seeded();
    const before = await storedRow(t);
    const older = variant("2026-11-20T14:03:40.000000+00:00");
    expect(await commit(t, older.job, older.recordHash)).toEqual({ outcome: "stale" });
    expect(await storedRow(t)).toEqual(before);
    expect(await eventKinds(t)).toEqual(["stage", "created", "stale_ignored"]);
  });

  test("sync:commit › the same instant with the same hash is `unchanged` and writes nothing", async () => {
    const t = await seeded();
    const before = await storedRow(t);
    expect(await commit(t, record.job, record.recordHash)).toEqual({ outcome: "unchanged" });
    expect(await storedRow(t)).toEqual(before);
    expect(await countRows(t, "jobEvents")).toBe(2);
  });

  test("sync:commit › the same instant with another hash takes the new content (`updated`)", async () => {
    const t = await seeded();
    const same = variant(STORED_AT, "renamed at the same instant");
    expect(await commit(t, same.job, same.recordHash)).toEqual({ outcome: "updated" });
    expect(await storedRow(t)).toMatchObject({ name: "renamed at the same instant", recordHash: same.recordHash });
  });

  test("sync:commit › a newer record is `updated`, its stage change lands in the timeline, and getPublic shows it", async () => {
    const t = await seeded();
    const newer = hashed({
      ...atInstant(record.job, "2026-11-20T14:05:00.000001+00:00"),
      status: "failed",
      error: "boom",
      componentJson: null,
    });
    expect(await commit(t, newer.job, newer.recordHash)).toEqual({ outcome: "updated" });
    expect(await t.query(api.jobs.getPublic, { jobId })).toEqual({ jobId, status: "failed", error: "boom", component: null });
    expect(await eventKinds(t)).toEqual(["stage", "created", "stage", "updated"]);
  });

  test.each([
    ["one microsecond earlier", "2026-11-20T14:03:41.377819+00:00", "stale"],
    ["one microsecond later", "2026-11-20T14:03:41.377821+00:00", "updated"],
    ["a microsecond earlier though its string sorts later (+02:00)", "2026-11-20T16:03:41.377819+02:00", "stale"],
    ["a microsecond later though its string sorts earlier (-02:00)", "2026-11-20T12:03:41.377821-02:00", "updated"],
    ["a microsecond later written with Z", "2026-11-20T14:03:41.377821Z", "updated"],
    ["the same instant in +05:30 (different content)", "2026-11-20T19:33:41.377820+05:30", "updated"],
    ["nanoseconds beyond the microsecond do not make it newer", "2026-11-20T14:03:41.377819999+00:00", "stale"],
  ])("sync:commit › compares instants to the microsecond: %s → %s", async (_label, updatedAtIso, outcome) => {
    const t = await seeded();
    const before = await storedRow(t);
    const next = variant(updatedAtIso);
    expect(await commit(t, next.job, next.recordHash)).toEqual({ outcome });
    if (outcome === "stale") expect(await storedRow(t)).toEqual(before);
    else expect(await storedRow(t)).toMatchObject({ updatedAtIso, name: next.job.name });
  });

  test("sync:commit › the same instant in another offset with the same hash is `unchanged`", async () => {
    const t = newConvexTest();
    const a = hashed(atInstant(record.job, "2026-11-20T14:03:41.377820+00:00"));
    const b = { job: atInstant(a.job, "2026-11-20T16:03:41.377820+02:00"), recordHash: a.recordHash };
    await commit(t, a.job, a.recordHash);
    expect(await commit(t, b.job, b.recordHash)).toEqual({ outcome: "unchanged" });
  });

  test("sync:commit › `replace` drops retryAfter when the newer record has none", async () => {
    const t = newConvexTest();
    expect(await commit(t, failed.job, failed.recordHash)).toEqual({ outcome: "created" });
    expect(await t.query(api.jobs.getPublic, { jobId })).toMatchObject({ retryAfter: 60 });
    const { retryAfter: _dropped, ...withoutRetry } = failed.job;
    const retried = hashed({
      ...atInstant(withoutRetry, "2026-11-20T14:05:00.000000+00:00"),
      status: "running",
      progressStage: "generating",
      error: null,
    });
    expect(await commit(t, retried.job, retried.recordHash)).toEqual({ outcome: "updated" });
    expect(await storedRow(t)).not.toHaveProperty("retryAfter");
    const pub = await t.query(api.jobs.getPublic, { jobId });
    expect(pub).toEqual({ jobId, status: "running", error: null, component: null });
    expect(pub).not.toHaveProperty("retryAfter");
  });

  test.each([["yesterday"], ["2026-02-30T00:00:00+00:00"], ["2026-11-20 14:03:41"], [""]])(
    "sync:commit › refuses updatedAtIso %j with INVALID_ARGUMENT naming the field and the job",
    async (updatedAtIso) => {
      const t = newConvexTest();
      const data = await expectConvexError(commit(t, { ...record.job, updatedAtIso }, "h"), "INVALID_ARGUMENT");
      expect(data).toMatchObject({ field: "updatedAtIso", jobId });
      expect(await countRows(t, "jobs")).toBe(0);
    },
  );

  test("sync:commit › refuses epoch ms that are not the ISO text's instant (INVALID_ARGUMENT, updatedAt)", async () => {
    const t = newConvexTest();
    const data = await expectConvexError(commit(t, { ...record.job, updatedAt: record.job.updatedAt + 1 }, "h"), "INVALID_ARGUMENT");
    expect(data).toMatchObject({ field: "updatedAt", jobId });
    expect(await countRows(t, "jobs")).toBe(0);
  });
});

describe("jobs:getPublic", () => {
  test("jobs:getPublic › returns null for a job that does not exist", async () => {
    const t = await seeded();
    expect(await t.query(api.jobs.getPublic, { jobId: "no-such-job" })).toBeNull();
  });

  test("jobs:getPublic › a listed asset without a committed row reads as null, never a guess", async () => {
    // Only reachable through the plan's one-record upsert; sync:commit refuses it (MISSING_ASSET).
    const t = newConvexTest();
    await t.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...planShapeOf(succeeded.job) });
    const pub = await publicOf(t, jobId);
    expect(pub.component.assets!).toEqual({
      "ivy_sign_frame.png": null,
      "ivy_sign_frame_mask.png": null,
      "ivy_sign_frame_debug.png": null,
    });
  });
});
