/**
 * The plan's contract, exactly: `jobs:upsert` takes the plan's shapes (epoch-ms timestamps,
 * optional values absent or null, `component` as an object) and the earlier Python client's
 * payloads as they were sent (fixtures/plan/pythonClientPayloads.json); monotonic writes hold
 * between a plan-style writer (millisecond precision) and the daemon (microseconds) in either
 * order; the tables hold the plan's types, so `by_created` answers "created in the last hour".
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { PlanUpsertInput } from "../../convex/lib/jobStore.js";
import payloads from "../fixtures/plan/pythonClientPayloads.json" with { type: "json" };
import {
  atInstant,
  type ConvexHarness,
  hashed,
  loadSample,
  newConvexTest,
  publicOf,
  storeBlob,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

const upserts = payloads.upserts as PlanUpsertInput[];
const jobId = upserts[0]!.jobId;
const succeeded = loadSample("04-succeeded.job.json");

async function storedJob(t: ConvexHarness, id = jobId) {
  return await t.run(
    async (ctx) =>
      await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", id))
        .unique(),
  );
}

const upsert = (t: ConvexHarness, payload: PlanUpsertInput) => t.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...payload });

describe("the earlier Python client's payloads", () => {
  test("jobs:upsert › takes every stage as sent (nulls, epoch ms) and stores the plan's types", async () => {
    const t = newConvexTest();
    expect(await upsert(t, upserts[0]!)).toEqual({ outcome: "created" });
    expect(await upsert(t, upserts[1]!)).toEqual({ outcome: "updated" });
    expect(await upsert(t, upserts[2]!)).toEqual({ outcome: "updated" });
    const row = await storedJob(t);
    expect(row).toMatchObject({
      createdAt: 1795183391482,
      updatedAt: 1795183421377,
      updatedAtUs: 1795183421377000,
      error: null,
      retryAfter: null,
    });
    expect(typeof row!.createdAt).toBe("number");
    // Replaying the last one is a no-op.
    expect(await upsert(t, upserts[2]!)).toEqual({ outcome: "unchanged" });
  });

  test("jobs:upsert → assets:save → getPublic: the plan's flow serves each listed file's URL", async () => {
    const t = newConvexTest();
    await upsert(t, upserts[2]!);
    for (const s of payloads.saves) {
      const storageId = await storeBlob(t, `bytes of ${s.filename}`);
      expect(await t.mutation(api.assets.save, { serviceToken: TOKEN, jobId, storageId, bytes: 12, ...s })).toBe("asset_saved");
    }
    const rows = await t.run(async (ctx) => await ctx.db.query("jobAssets").collect());
    for (const r of rows) expect(typeof r.createdAt).toBe("number");
    const pub = await publicOf(t, jobId);
    expect(pub).toMatchObject({ jobId, status: "succeeded", error: null });
    expect(pub).not.toHaveProperty("retryAfter");
    const assets = pub.component.assets as Record<string, string | null>;
    // A stored object keeps no key order (Convex sorts fields); job.json's order needs the daemon's text.
    expect(Object.keys(assets).sort()).toEqual(payloads.saves.map((s) => s.filename).sort());
    for (const url of Object.values(assets)) expect(url).toMatch(/^https?:\/\//);
  });

  test("jobs:getPublic › a failed plan job reads retryAfter and error as sent; a null retryAfter reads as absent", async () => {
    const t = newConvexTest();
    const failed = payloads.failedUpsert as PlanUpsertInput;
    await upsert(t, failed);
    expect(await t.query(api.jobs.getPublic, { jobId: failed.jobId })).toEqual({
      jobId: failed.jobId,
      status: "failed",
      retryAfter: 60,
      error: failed.error,
      component: null,
    });
    await upsert(t, upserts[0]!);
    expect(await t.query(api.jobs.getPublic, { jobId })).toEqual({ jobId, status: "queued", error: null, component: null });
  });
});

describe("jobs:upsert fills what the plan's callers leave out", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-01T10:00:00.000Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("jobs:upsert › without createdAt/updatedAt and optional fields: the server's clock, the created time kept", async () => {
    const t = newConvexTest();
    const minimal = { jobId: "minimal", status: "queued", prompt: "p", internalAssetType: "icon" };
    expect(await upsert(t, minimal)).toEqual({ outcome: "created" });
    const now = Date.parse("2026-12-01T10:00:00.000Z");
    expect(await storedJob(t, "minimal")).toMatchObject({ createdAt: now, updatedAt: now });
    vi.setSystemTime(now + 5000);
    expect(await upsert(t, { ...minimal, status: "running" })).toEqual({ outcome: "updated" });
    expect(await storedJob(t, "minimal")).toMatchObject({ createdAt: now, updatedAt: now + 5000, status: "running" });
  });

  test("by_created › a numeric range: the jobs created in the last hour", async () => {
    const t = newConvexTest();
    const now = Date.now();
    for (const [id, ageMs] of [
      ["old", 2 * 3600_000],
      ["recent", 600_000],
      ["new", 0],
    ] as const) {
      await upsert(t, {
        jobId: id,
        status: "queued",
        prompt: "p",
        internalAssetType: "icon",
        createdAt: now - ageMs,
        updatedAt: now - ageMs,
      });
    }
    const lastHour = await t.run(async (ctx) =>
      (
        await ctx.db
          .query("jobs")
          .withIndex("by_created", (q) => q.gte("createdAt", now - 3600_000))
          .collect()
      ).map((j) => j.jobId),
    );
    expect(lastHour).toEqual(["recent", "new"]);
  });
});

describe("monotonic writes between a plan-style writer and the daemon", () => {
  // The daemon's record of 04-succeeded: 2026-11-20T14:03:41.377820 = 1795183421377 ms + 820 µs.
  const daemon = hashed({ ...succeeded.job, componentJson: null });
  const commit = (t: ConvexHarness, job = daemon) =>
    t.mutation(api.sync.commit, { serviceToken: TOKEN, job: job.job, recordHash: job.recordHash, assets: [] });
  const plan = (updatedAt: number, status = "running"): PlanUpsertInput => ({ ...upserts[1]!, status, updatedAt });

  test("plan first, then the daemon: the daemon's newer record wins, its older one is stale", async () => {
    const t = newConvexTest();
    await upsert(t, plan(1795183421377));
    // Same millisecond, 820 µs later: newer.
    expect((await commit(t)).outcome).toBe("updated");
    expect(await storedJob(t)).toMatchObject({ status: "succeeded", updatedAtUs: 1795183421377820 });
    const t2 = newConvexTest();
    await upsert(t2, plan(1795183421378));
    expect((await commit(t2)).outcome).toBe("stale");
    expect(await storedJob(t2)).toMatchObject({ status: "running", updatedAt: 1795183421378 });
  });

  test("the daemon first, then a plan-style write: an older millisecond is stale, never a rollback", async () => {
    const t = newConvexTest();
    await commit(t);
    expect(await upsert(t, plan(1795183421376))).toEqual({ outcome: "stale" });
    expect(await storedJob(t)).toMatchObject({ status: "succeeded", updatedAtUs: 1795183421377820 });
  });

  test("the daemon first, then a plan-style write of the same millisecond: taken, the version never goes down", async () => {
    const t = newConvexTest();
    await commit(t);
    expect(await upsert(t, plan(1795183421377, "succeeded"))).toEqual({ outcome: "updated" });
    expect(await storedJob(t)).toMatchObject({ updatedAt: 1795183421377, updatedAtUs: 1795183421377820 });
    // So the daemon's same record is not older than what is stored: it is written again, not lost.
    expect((await commit(t)).outcome).toBe("updated");
    // And a daemon record a microsecond older than the stored version stays stale.
    const older = hashed(atInstant(daemon.job, "2026-11-20T14:03:41.377819+00:00"));
    expect((await commit(t, older)).outcome).toBe("stale");
  });

  test("the daemon after a newer plan-style write reads remote-ahead in its state: updatedAtUs from the plan's ms", async () => {
    const t = newConvexTest();
    await upsert(t, plan(1795183500000));
    const [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [jobId] });
    expect(state).toMatchObject({ updatedAtUs: 1795183500000000, recordHash: null, sourceHash: null, status: "running" });
  });
});
