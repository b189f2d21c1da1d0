/**
 * Garbage collection of blobs no asset row references (`gc:collectNow`, internal `gc:collect`).
 * Only the clock is faked: convex-test stamps `_creationTime` with `Date.now()`, and the
 * collector's cutoff is `Date.now() - graceMs`, so "older than" is set by moving the clock.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import { DEFAULT_GRACE_MS, SCAN_LIMIT } from "../../convex/gc.js";
import { convexTest } from "convex-test";
import schema from "../../convex/schema.js";
import { blobExists, type ConvexHarness, modules, newConvexTest, storeBlob, TOKEN, useServiceToken } from "./convexHarness.js";

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
const collect = (t: ConvexHarness, graceMs?: number) => t.mutation(internal.gc.collect, graceMs === undefined ? {} : { graceMs });

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
  test(`gc:collectNow › scans at most ${SCAN_LIMIT} blobs per run and reports that more remain (one batch on demand)`, async () => {
    const t = newConvexTest();
    await t.run(async (ctx) => {
      for (let i = 0; i <= SCAN_LIMIT; i++) await ctx.storage.store(new Blob([`blob-${i}`]));
    });
    at(HOUR);
    expect(await collectNow(t, 0)).toEqual({ scanned: SCAN_LIMIT, deleted: SCAN_LIMIT, more: true });
    expect(await collectNow(t, 0)).toEqual({ scanned: 1, deleted: 1, more: false });
    expect(await t.run(async (ctx) => (await ctx.db.system.query("_storage").collect()).length)).toBe(0);
  });

  test("gc:collect › a run that finds more schedules its continuation at once, which finishes the walk", async () => {
    vi.useRealTimers();
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const t = newConvexTest();
    await t.run(async (ctx) => {
      for (let i = 0; i < 2 * SCAN_LIMIT + 5; i++) await ctx.storage.store(new Blob([`blob-${i}`]));
    });
    at(HOUR);
    expect(await collect(t, 0)).toEqual({ scanned: SCAN_LIMIT, deleted: SCAN_LIMIT, more: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.run(async (ctx) => (await ctx.db.system.query("_storage").collect()).length)).toBe(0);
  });
});

/** What the convex-test patch exposes of its database (patches/convex-test+*.patch). */
type RawDatabase = { insert(table: string, value: Record<string, unknown>): string };

/** Half of every per-transaction limit Convex enforces (convex-test's defaults are Convex's). */
const HALF_LIMITS = {
  bytesRead: 8 * 1024 * 1024,
  bytesWritten: 8 * 1024 * 1024,
  documentsRead: 16_000,
  databaseQueries: 2_048,
  documentsWritten: 8_000,
  functionsScheduled: 500,
  scheduledFunctionArgsBytes: 8 * 1024 * 1024,
};

describe("gc at production rates", () => {
  test("gc:collect › a run of orphans stays within half of every per-transaction limit", async () => {
    const t = convexTest({ schema, modules, transactionLimits: HALF_LIMITS } as Parameters<typeof convexTest>[0]);
    await t.run(async (ctx) => {
      for (let i = 0; i < 3 * SCAN_LIMIT; i++) await ctx.storage.store(new Blob([`orphan-${i}`]));
    });
    at(HOUR);
    // Only the first run: its continuation is left unrun (the clock, not the timers, is faked).
    expect(await collect(t, 0)).toEqual({ scanned: SCAN_LIMIT, deleted: SCAN_LIMIT, more: true });
  });

  /**
   * The figure is 100,000 uploads (the daemon's live rate is ~250,000 an hour); that size
   * passes too, but takes about 80 s here: convex-test answers each run's range on `_storage` by
   * scanning and sorting the whole table, so the chain costs it quadratic time (Convex reads only
   * the range). CI runs 20,000; `CELSTATE_SYNC_GC_UPLOADS=100000` runs the full size.
   */
  const UPLOADS = Number(process.env.CELSTATE_SYNC_GC_UPLOADS ?? 20_000);
  test(`gc:collect › keeps up: ${UPLOADS} uploads within an hour, a tenth orphans, all examined in one cron's chain`, async () => {
    vi.useRealTimers();
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    // Half of every limit but documents read: convex-test finds `_storage` rows by creation time
    // with a scan from the table's start and counts every row it passes (Convex reads only the
    // range); the first test above holds a run to half of all of them.
    const t = convexTest({ schema, modules, transactionLimits: { ...HALF_LIMITS, documentsRead: Number.MAX_SAFE_INTEGER } } as Parameters<
      typeof convexTest
    >[0]);
    const db = (t as unknown as { rootDatabase: RawDatabase }).rootDatabase;
    const BATCH = 5_000;
    const orphans: string[] = [];
    const referenced: string[] = [];
    for (let start = 0; start < UPLOADS; start += BATCH) {
      // Spread over the hour: each batch a little later.
      vi.setSystemTime(T0 + Math.floor((start / UPLOADS) * HOUR));
      const ids = (await t.run(async (ctx) => {
        const made: Array<[string, boolean]> = [];
        for (let i = start; i < start + BATCH; i++) {
          // A stored file's row as an upload writes it (the bytes themselves do not matter here).
          const id = db.insert("_storage", { sha256: "", size: 1 });
          const orphan = i % 10 === 0;
          if (!orphan) {
            await ctx.db.insert("jobAssets", {
              jobId: `job-${i}`,
              role: "output_png",
              filename: "a.png",
              storageId: id as Id<"_storage">,
              contentType: "image/png",
              bytes: 1,
              createdAt: Date.now(),
            });
          }
          made.push([id, orphan]);
        }
        return made;
      })) as Array<[string, boolean]>;
      for (const [id, orphan] of ids) (orphan ? orphans : referenced).push(id);
    }
    // The hourly cron, an hour after the last upload passed the grace period.
    vi.setSystemTime(T0 + HOUR + DEFAULT_GRACE_MS);
    const first = await collect(t);
    expect(first.more).toBe(true);
    await t.finishAllScheduledFunctions(vi.runAllTimers, UPLOADS / SCAN_LIMIT + 10);
    const left = await t.run(async (ctx) => (await ctx.db.system.query("_storage").collect()).map((b) => b._id as string));
    const leftSet = new Set(left);
    expect(orphans.filter((id) => leftSet.has(id))).toEqual([]);
    expect(left.length).toBe(referenced.length);
    expect(referenced.every((id) => leftSet.has(id))).toBe(true);
    // The whole chain ran within the hour before the next cron run.
    expect(Date.now() - (T0 + HOUR + DEFAULT_GRACE_MS)).toBeLessThan(HOUR);
  }, 120_000);
});
