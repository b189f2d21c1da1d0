/**
 * Garbage collection of blobs no asset row references (`gc:collectNow`, internal `gc:collect`).
 * Only the clock is faked: convex-test stamps `_creationTime` with `Date.now()`, and the
 * collector's cutoff is `Date.now() - graceMs`, so "older than" is set by moving the clock.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import { DEFAULT_GRACE_MS, SCAN_LIMIT } from "../../convex/gc.js";
import {
  blobExists,
  type ConvexHarness,
  newConvexTest,
  storeBlob,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

const T0 = Date.parse("2026-11-20T00:00:00Z");
const HOUR = 60 * 60 * 1000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

function at(ms: number): void {
  vi.setSystemTime(T0 + ms);
}

/** Points an asset row at the blob, as a commit would. */
async function reference(t: ConvexHarness, storageId: Id<"_storage">, filename: string): Promise<void> {
  await t.mutation(api.assets.save, {
    serviceToken: TOKEN,
    jobId: "job-1",
    role: "output_png",
    filename,
    storageId,
    contentType: "image/png",
    bytes: 1,
  });
}

const collectNow = (t: ConvexHarness, graceMs?: number) =>
  t.mutation(api.gc.collectNow, { serviceToken: TOKEN, ...(graceMs === undefined ? {} : { graceMs }) });
const collect = (t: ConvexHarness, graceMs?: number) =>
  t.mutation(internal.gc.collect, graceMs === undefined ? {} : { graceMs });

describe.each([
  ["gc:collectNow", collectNow],
  ["gc:collect", collect],
])("%s", (name, run) => {
  test(`${name} › deletes old orphans, keeps referenced and young blobs`, async () => {
    const t = newConvexTest();
    const orphanOld = await storeBlob(t, "orphan-old");
    const referencedOld = await storeBlob(t, "referenced-old");
    await reference(t, referencedOld, "a.png");
    at(7 * HOUR);
    const orphanYoung = await storeBlob(t, "orphan-young");
    expect(await run(t)).toEqual({ scanned: 2, deleted: 1, more: false });
    expect(await blobExists(t, orphanOld)).toBe(false);
    expect(await blobExists(t, referencedOld)).toBe(true);
    expect(await blobExists(t, orphanYoung)).toBe(true);
  });

  test(`${name} › the default grace period is ${DEFAULT_GRACE_MS / HOUR} hours`, async () => {
    const t = newConvexTest();
    const older = await storeBlob(t, "older");
    at(2 * 60 * 1000);
    const younger = await storeBlob(t, "younger");
    // `older` is 1 ms past the grace period, `younger` two minutes short of it.
    at(DEFAULT_GRACE_MS + 1);
    expect(await run(t)).toMatchObject({ scanned: 1, deleted: 1 });
    expect(await blobExists(t, older)).toBe(false);
    expect(await blobExists(t, younger)).toBe(true);
  });

  test(`${name} › an explicit graceMs sets the cutoff`, async () => {
    const t = newConvexTest();
    const blob = await storeBlob(t, "blob");
    at(10_000);
    expect(await run(t, 10_001)).toMatchObject({ scanned: 0, deleted: 0 });
    expect(await blobExists(t, blob)).toBe(true);
    expect(await run(t, 9_999)).toMatchObject({ scanned: 1, deleted: 1 });
    expect(await blobExists(t, blob)).toBe(false);
  });

  test(`${name} › the cursor means a second run does not rescan what the first passed`, async () => {
    const t = newConvexTest();
    const kept = await storeBlob(t, "kept");
    await reference(t, kept, "a.png");
    at(HOUR);
    const later = await storeBlob(t, "later");
    at(2 * HOUR);
    expect(await run(t, HOUR + 1)).toEqual({ scanned: 1, deleted: 0, more: false });
    expect(await run(t, HOUR + 1)).toEqual({ scanned: 0, deleted: 0, more: false });
    // Unreferenced behind the cursor (commits delete what they replace, so this never
    // happens in practice): the collector does not come back for it.
    await t.run(async (ctx) => {
      for (const row of await ctx.db.query("jobAssets").collect()) await ctx.db.delete(row._id);
    });
    at(3 * HOUR);
    expect(await run(t, HOUR)).toEqual({ scanned: 1, deleted: 1, more: false });
    expect(await blobExists(t, later)).toBe(false);
    expect(await blobExists(t, kept)).toBe(true);
    const cursor = await t.run(async (ctx) => ctx.db.query("syncMeta").collect());
    expect(cursor).toHaveLength(1);
  });
});

describe("gc:collect", () => {
  test(`gc:collect › scans at most ${SCAN_LIMIT} blobs per run and reports that more remain`, async () => {
    const t = newConvexTest();
    await t.run(async (ctx) => {
      for (let i = 0; i <= SCAN_LIMIT; i++) await ctx.storage.store(new Blob([`blob-${i}`]));
    });
    at(HOUR);
    expect(await collect(t, 0)).toEqual({ scanned: SCAN_LIMIT, deleted: SCAN_LIMIT, more: true });
    expect(await collect(t, 0)).toEqual({ scanned: 1, deleted: 1, more: false });
    expect(await t.run(async (ctx) => (await ctx.db.system.query("_storage").collect()).length)).toBe(0);
  });
});
