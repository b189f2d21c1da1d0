/**
 * `jobs:upsert` and `jobs:getPublic`: monotonic writes compare instants to the microsecond,
 * whatever the offset, and a replaced record keeps nothing of the old one.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import {
  type ConvexHarness,
  countRows,
  expectConvexError,
  hashed,
  loadSample,
  newConvexTest,
  TOKEN,
  useServiceToken,
  publicOf,
} from "./convexHarness.js";

useServiceToken();

const succeeded = loadSample("04-succeeded.job.json");
const failed = loadSample("05-failed-rate-limit.job.json");
const jobId = succeeded.job.jobId;
/** 04-succeeded's updated_at: 2026-11-20T14:03:41.377820+00:00 */
const STORED_AT = succeeded.job.updatedAt;

async function upsert(t: ConvexHarness, job: JobRecordInput, recordHash?: string) {
  return await t.mutation(api.jobs.upsert, {
    serviceToken: TOKEN,
    ...job,
    ...(recordHash === undefined ? {} : { recordHash }),
  });
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
function variant(updatedAt: string, name = `variant at ${updatedAt}`) {
  return hashed({ ...succeeded.job, updatedAt, name });
}

async function seeded(): Promise<ConvexHarness> {
  const t = newConvexTest();
  expect(await upsert(t, succeeded.job, succeeded.recordHash)).toEqual({ outcome: "created" });
  return t;
}

describe("jobs:upsert", () => {
  test("jobs:upsert › creates the row with the parsed instant and the hash, and logs `created`", async () => {
    const t = await seeded();
    const row = await storedRow(t);
    expect(row).toMatchObject({ jobId, updatedAt: STORED_AT, updatedAtUs: 1_795_183_421_377_820, recordHash: succeeded.recordHash });
    const events = await t.run(async (ctx) => ctx.db.query("jobEvents").collect());
    expect(events.map((e) => [e.kind, e.updatedAt])).toEqual([["created", STORED_AT]]);
  });

  test("jobs:upsert › ignores an older record: outcome `stale`, row and events unchanged", async () => {
    const t = await seeded();
    const before = await storedRow(t);
    const older = variant("2026-11-20T14:03:40.000000+00:00");
    expect(await upsert(t, older.job, older.recordHash)).toEqual({ outcome: "stale" });
    expect(await storedRow(t)).toEqual(before);
    expect(await countRows(t, "jobEvents")).toBe(1);
  });

  test("jobs:upsert › the same instant with the same hash is `unchanged` and writes nothing", async () => {
    const t = await seeded();
    const before = await storedRow(t);
    expect(await upsert(t, succeeded.job, succeeded.recordHash)).toEqual({ outcome: "unchanged" });
    expect(await storedRow(t)).toEqual(before);
    expect(await countRows(t, "jobEvents")).toBe(1);
  });

  test("jobs:upsert › the same instant with another hash takes the new content (`updated`)", async () => {
    const t = await seeded();
    const same = variant(STORED_AT, "renamed at the same instant");
    expect(await upsert(t, same.job, same.recordHash)).toEqual({ outcome: "updated" });
    expect(await storedRow(t)).toMatchObject({ name: "renamed at the same instant", recordHash: same.recordHash });
  });

  test("jobs:upsert › a newer record is `updated`, logged, and visible through getPublic", async () => {
    const t = await seeded();
    const newer = hashed({ ...succeeded.job, updatedAt: "2026-11-20T14:05:00.000001+00:00", status: "failed", error: "boom", componentJson: null });
    expect(await upsert(t, newer.job, newer.recordHash)).toEqual({ outcome: "updated" });
    expect(await t.query(api.jobs.getPublic, { jobId })).toEqual({ jobId, status: "failed", error: "boom", component: null });
    const kinds = await t.run(async (ctx) => (await ctx.db.query("jobEvents").collect()).map((e) => e.kind));
    expect(kinds).toEqual(["created", "updated"]);
  });

  test.each([
    ["one microsecond earlier", "2026-11-20T14:03:41.377819+00:00", "stale"],
    ["one microsecond later", "2026-11-20T14:03:41.377821+00:00", "updated"],
    ["a microsecond earlier though its string sorts later (+02:00)", "2026-11-20T16:03:41.377819+02:00", "stale"],
    ["a microsecond later though its string sorts earlier (-02:00)", "2026-11-20T12:03:41.377821-02:00", "updated"],
    ["a microsecond later written with Z", "2026-11-20T14:03:41.377821Z", "updated"],
    ["the same instant in +05:30 (different content)", "2026-11-20T19:33:41.377820+05:30", "updated"],
    ["nanoseconds beyond the microsecond do not make it newer", "2026-11-20T14:03:41.377819999+00:00", "stale"],
  ])("jobs:upsert › compares instants to the microsecond: %s → %s", async (_label, updatedAt, outcome) => {
    const t = await seeded();
    const before = await storedRow(t);
    const next = variant(updatedAt);
    expect(await upsert(t, next.job, next.recordHash)).toEqual({ outcome });
    if (outcome === "stale") expect(await storedRow(t)).toEqual(before);
    else expect(await storedRow(t)).toMatchObject({ updatedAt, name: next.job.name });
  });

  test("jobs:upsert › the same instant in another offset with the same hash is `unchanged`", async () => {
    const t = newConvexTest();
    const a = hashed({ ...succeeded.job, updatedAt: "2026-11-20T14:03:41.377820+00:00" });
    const b = { job: { ...a.job, updatedAt: "2026-11-20T16:03:41.377820+02:00" }, recordHash: a.recordHash };
    await upsert(t, a.job, a.recordHash);
    expect(await upsert(t, b.job, b.recordHash)).toEqual({ outcome: "unchanged" });
  });

  test("jobs:upsert › `replace` drops retryAfter when the newer record has none", async () => {
    const t = newConvexTest();
    expect(await upsert(t, failed.job, failed.recordHash)).toEqual({ outcome: "created" });
    expect(await t.query(api.jobs.getPublic, { jobId })).toMatchObject({ retryAfter: 60 });
    const { retryAfter: _dropped, ...withoutRetry } = failed.job;
    const retried = hashed({ ...withoutRetry, status: "running", progressStage: "generating", error: null, updatedAt: "2026-11-20T14:05:00.000000+00:00" });
    expect(await upsert(t, retried.job, retried.recordHash)).toEqual({ outcome: "updated" });
    expect(await storedRow(t)).not.toHaveProperty("retryAfter");
    const pub = await t.query(api.jobs.getPublic, { jobId });
    expect(pub).toEqual({ jobId, status: "running", error: null, component: null });
    expect(pub).not.toHaveProperty("retryAfter");
  });

  test("jobs:upsert › without a hash, the same instant rewrites the row (`updated`) rather than guessing", async () => {
    const t = newConvexTest();
    await upsert(t, succeeded.job);
    expect(await upsert(t, succeeded.job)).toEqual({ outcome: "updated" });
    expect(await storedRow(t)).not.toHaveProperty("recordHash");
  });

  test.each([["yesterday"], ["2026-02-30T00:00:00+00:00"], ["2026-11-20 14:03:41"], [""]])(
    "jobs:upsert › refuses updatedAt %j with INVALID_ARGUMENT naming the field and the job",
    async (updatedAt) => {
      const t = newConvexTest();
      const data = await expectConvexError(upsert(t, { ...succeeded.job, updatedAt }), "INVALID_ARGUMENT");
      expect(data).toMatchObject({ field: "updatedAt", jobId });
      expect(await countRows(t, "jobs")).toBe(0);
    },
  );
});

describe("jobs:getPublic", () => {
  test("jobs:getPublic › returns null for a job that does not exist", async () => {
    const t = await seeded();
    expect(await t.query(api.jobs.getPublic, { jobId: "no-such-job" })).toBeNull();
  });

  test("jobs:getPublic › a listed asset without a committed row reads as null, never a guess", async () => {
    // Only reachable through the seed's one-record upsert; sync:commit refuses it (MISSING_ASSET).
    const t = await seeded();
    const pub = await publicOf(t, jobId);
    expect(pub.component.assets!).toEqual({
      "ivy_sign_frame.png": null,
      "ivy_sign_frame_mask.png": null,
      "ivy_sign_frame_debug.png": null,
    });
  });
});
