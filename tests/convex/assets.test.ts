/**
 * `assets:generateUploadUrl(s)` and the seed's one-row `assets:save`.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import {
  blobExists,
  type ConvexHarness,
  countRows,
  expectConvexError,
  newConvexTest,
  snapshotTables,
  storeBlob,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

const jobId = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";

describe("assets:generateUploadUrl", () => {
  test("assets:generateUploadUrl › returns an upload URL and writes nothing", async () => {
    const t = newConvexTest();
    const before = await snapshotTables(t);
    const url = await t.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
    expect(url).toMatch(/^https?:\/\/.+/);
    expect(await snapshotTables(t)).toEqual(before);
  });
});

describe("assets:generateUploadUrls", () => {
  test.each([1, 2, 100])("assets:generateUploadUrls › returns %i distinct URLs", async (count) => {
    const t = newConvexTest();
    const urls = await t.mutation(api.assets.generateUploadUrls, { serviceToken: TOKEN, count });
    expect(urls).toHaveLength(count);
    expect(new Set(urls).size).toBe(count);
    for (const url of urls) expect(url).toMatch(/^https?:\/\/.+/);
  });

  test.each([0, 101, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    "assets:generateUploadUrls › refuses count %d with INVALID_ARGUMENT naming `count`",
    async (count) => {
      const t = newConvexTest();
      const data = await expectConvexError(t.mutation(api.assets.generateUploadUrls, { serviceToken: TOKEN, count }), "INVALID_ARGUMENT");
      expect(data.field).toBe("count");
      expect(data.message).toContain(String(count));
    },
  );
});

async function save(
  t: ConvexHarness,
  filename: string,
  storageId: Id<"_storage">,
  extra: { bytes?: number; sha256?: string; contentType?: string } = {},
) {
  return await t.mutation(api.assets.save, {
    serviceToken: TOKEN,
    jobId,
    role: filename.endsWith("_debug.png") ? "debug_png" : "output_png",
    filename,
    storageId,
    contentType: extra.contentType ?? "image/png",
    bytes: extra.bytes ?? 10,
    ...(extra.sha256 === undefined ? {} : { sha256: extra.sha256 }),
  });
}

async function row(t: ConvexHarness, filename: string) {
  return await t.run(async (ctx) =>
    ctx.db
      .query("jobAssets")
      .withIndex("by_job", (q) => q.eq("jobId", jobId).eq("filename", filename))
      .unique(),
  );
}

async function events(t: ConvexHarness): Promise<string[]> {
  return await t.run(async (ctx) => (await ctx.db.query("jobEvents").collect()).map((e) => `${e.kind}:${e.payload.filename}`));
}

describe("assets:save", () => {
  test("assets:save › inserts a row and logs asset_saved", async () => {
    const t = newConvexTest();
    const id = await storeBlob(t, "one");
    expect(await save(t, "a.png", id, { sha256: "h1" })).toBe("asset_saved");
    expect(await row(t, "a.png")).toMatchObject({ jobId, role: "output_png", storageId: id, bytes: 10, sha256: "h1" });
    expect(await events(t)).toEqual(["asset_saved:a.png"]);
  });

  test("assets:save › the same row again is `unchanged`: no write, no event", async () => {
    const t = newConvexTest();
    const id = await storeBlob(t, "one");
    await save(t, "a.png", id, { sha256: "h1" });
    const before = await snapshotTables(t);
    expect(await save(t, "a.png", id, { sha256: "h1" })).toBe("unchanged");
    expect(await snapshotTables(t)).toEqual(before);
  });

  test("assets:save › a new blob replaces the row and deletes the old blob", async () => {
    const t = newConvexTest();
    const oldId = await storeBlob(t, "old");
    const newId = await storeBlob(t, "new");
    await save(t, "a.png", oldId);
    expect(await save(t, "a.png", newId, { bytes: 11 })).toBe("asset_replaced");
    expect(await row(t, "a.png")).toMatchObject({ storageId: newId, bytes: 11 });
    expect(await blobExists(t, oldId)).toBe(false);
    expect(await blobExists(t, newId)).toBe(true);
    expect(await countRows(t, "jobAssets")).toBe(1);
    expect(await events(t)).toEqual(["asset_saved:a.png", "asset_replaced:a.png"]);
  });

  test("assets:save › new metadata on the same blob replaces the row but keeps the blob", async () => {
    const t = newConvexTest();
    const id = await storeBlob(t, "same");
    await save(t, "a.png", id, { bytes: 10 });
    expect(await save(t, "a.png", id, { bytes: 12, sha256: "h2" })).toBe("asset_replaced");
    expect(await row(t, "a.png")).toMatchObject({ storageId: id, bytes: 12, sha256: "h2" });
    expect(await blobExists(t, id)).toBe(true);
  });

  test("assets:save › a replaced blob that another row still uses is kept", async () => {
    const t = newConvexTest();
    const shared = await storeBlob(t, "shared");
    const next = await storeBlob(t, "next");
    await save(t, "a.png", shared);
    await save(t, "b_debug.png", shared);
    expect(await save(t, "a.png", next)).toBe("asset_replaced");
    expect(await blobExists(t, shared)).toBe(true);
    expect(await row(t, "b_debug.png")).toMatchObject({ storageId: shared });
  });

  test("assets:save › a blob that does not exist is UNKNOWN_STORAGE_ID, on insert and on replace", async () => {
    const t = newConvexTest();
    const gone = await storeBlob(t, "gone");
    const kept = await storeBlob(t, "kept");
    await t.run(async (ctx) => ctx.storage.delete(gone));
    const before = await snapshotTables(t);
    const data = await expectConvexError(save(t, "a.png", gone), "UNKNOWN_STORAGE_ID");
    expect(data).toMatchObject({ jobId, filename: "a.png" });
    expect(await snapshotTables(t)).toEqual(before);

    await save(t, "a.png", kept);
    const beforeReplace = await snapshotTables(t);
    await expectConvexError(save(t, "a.png", gone), "UNKNOWN_STORAGE_ID");
    // The existing row and its blob survive the failed replace.
    expect(await snapshotTables(t)).toEqual(beforeReplace);
  });
});
