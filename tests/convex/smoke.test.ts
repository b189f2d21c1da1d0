import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import schema from "../../convex/schema.js";
import { api } from "../../convex/_generated/api.js";

const modules = import.meta.glob("../../convex/**/*.ts");

test("smoke", async () => {
  process.env.CELSTATE_SYNC_TOKEN = "tok";
  const t = convexTest(schema, modules);
  const url = await t.mutation(api.assets.generateUploadUrl, { serviceToken: "tok" });
  expect(url).toContain("upload");
  const storageId = await t.run(async (ctx) => ctx.storage.store(new Blob(["x"])));
  const r = await t.mutation(api.sync.commit, {
    serviceToken: "tok",
    recordHash: "h",
    job: { jobId: "j1", status: "succeeded", internalAssetType: "icon", prompt: "p", createdAt: "2026-11-20T14:03:11.482913+00:00", updatedAt: "2026-11-20T14:03:11.482913+00:00", component: { assets: { "a.png": null }, telemetry: { x: NaN } }, error: null },
    assets: [{ role: "output_png", filename: "a.png", storageId, contentType: "image/png", bytes: 1, sha256: "ab", sourceMtimeMs: 1 }],
  });
  expect(r.outcome).toBe("created");
  const pub = await t.query(api.jobs.getPublic, { jobId: "j1" });
  console.log(JSON.stringify(pub));
  console.log(await t.mutation(api.gc.collectNow, { serviceToken: "tok", graceMs: 0 }));
});
