/**
 * Deploying this version over a deployment that already ran the plan's in-process sync:
 * documents written under the plan's schema (fixtures/plan/planSchema.ts: epoch-ms numbers, no
 * hashes, no sync state, the plan's jobEvents) are exported, loaded under this schema (every
 * insert validated against it, as `npx convex deploy` validates existing data), served by
 * `jobs:getPublic` before and after the migrations, and filled by them (convex/migrations.ts).
 */
import { createHash } from "node:crypto";
import migrationsComponent from "@convex-dev/migrations/test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import { loadPlanExport, type PlanExport, planDeployment } from "../fixtures/plan/planExport.js";
import { type ConvexHarness, newConvexTest, TOKEN, useServiceToken } from "./convexHarness.js";

useServiceToken();

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const JOB = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";
const FILES = [
  { role: "output_png", filename: "ivy_sign_frame.png", bytes: "png bytes" },
  { role: "mask_png", filename: "ivy_sign_frame_mask.png", bytes: "mask bytes" },
  { role: "debug_png", filename: "ivy_sign_frame_debug.png", bytes: "debug bytes" },
] as const;

/** A deployment as the plan's functions left it: one succeeded job, its assets, its events. */
async function planData(): Promise<PlanExport> {
  return await planDeployment(async (ctx) => {
    const now = 1795183421377;
    await ctx.db.insert("jobs", {
      jobId: JOB,
      status: "succeeded",
      progressStage: "completed",
      prompt: "a carved wooden sign frame with ivy at the corners",
      styleContext: "cozy storybook, warm palette",
      name: "ivy_sign_frame",
      layoutIntent: "column",
      renderSizeHint: 160,
      internalAssetType: "container",
      component: {
        manifest: { version: "0.1", id: "ivy_sign_frame" },
        assets: Object.fromEntries(FILES.map((f) => [f.filename, null])),
      },
      telemetry: { alpha_coverage: 0.6412 },
      error: null,
      retryAfter: null,
      createdAt: 1795183391482,
      updatedAt: now,
    });
    for (const f of FILES) {
      const storageId = await ctx.storage.store(new Blob([f.bytes], { type: "image/png" }));
      await ctx.db.insert("jobAssets", {
        jobId: JOB,
        role: f.role,
        filename: f.filename,
        storageId,
        contentType: "image/png",
        bytes: f.bytes.length,
        createdAt: now,
      });
    }
    await ctx.db.insert("jobEvents", { jobId: JOB, kind: "status_changed", payload: { from: "running", to: "succeeded" }, createdAt: now });
  });
}

function deployment(): ConvexHarness {
  const t = newConvexTest();
  migrationsComponent.register(t);
  return t;
}

async function rows(t: ConvexHarness) {
  return await t.run(async (ctx) => ({
    jobs: await ctx.db.query("jobs").collect(),
    assets: await ctx.db.query("jobAssets").collect(),
    states: await ctx.db.query("jobSyncStates").collect(),
    events: await ctx.db.query("jobEvents").collect(),
  }));
}

const hex = (s: string) => createHash("sha256").update(s).digest("hex");

describe("deploying over the plan's data", () => {
  test("plan rows validate under this schema and are served before any migration", async () => {
    const t = deployment();
    await loadPlanExport(t, await planData());
    const pub = await t.query(api.jobs.getPublic, { jobId: JOB });
    expect(pub).toMatchObject({ jobId: JOB, status: "succeeded", error: null });
    expect(pub).not.toHaveProperty("retryAfter");
    const assets = (JSON.parse(pub!.component!) as { assets: Record<string, string> }).assets;
    // A stored object keeps no key order (Convex sorts fields); job.json's order needs the daemon's text.
    expect(Object.keys(assets).sort()).toEqual(FILES.map((f) => f.filename).sort());
    for (const url of Object.values(assets)) expect(url).toMatch(/^https?:\/\//);

    // The daemon's view of an unmigrated row: the version from the plan's ms, each file's hash
    // from the blob Convex stored, so a re-check hashes the local file instead of re-uploading.
    const [state] = await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [JOB] });
    expect(state).toMatchObject({ jobId: JOB, updatedAtUs: 1795183421377000, recordHash: null, sourceHash: null });
    expect(Object.fromEntries(state!.assets.map((a) => [a.filename, a.sha256]))).toEqual(
      Object.fromEntries(FILES.map((f) => [f.filename, hex(f.bytes)])),
    );
  });

  test("migrations:runAll fills hashes, versions and sync states; getPublic answers the same throughout", async () => {
    const t = deployment();
    await loadPlanExport(t, await planData());
    const before = await t.query(api.jobs.getPublic, { jobId: JOB });

    await t.mutation(internal.migrations.runAll, {});
    // The first batch ran inside that call; between batches the deployment still serves.
    expect(await t.query(api.jobs.getPublic, { jobId: JOB })).toEqual(before);
    await t.finishAllScheduledFunctions(vi.runAllTimers);

    const after = await rows(t);
    expect(after.jobs.map((j) => j.updatedAtUs)).toEqual([1795183421377000]);
    expect(Object.fromEntries(after.assets.map((a) => [a.filename, a.sha256]))).toEqual(
      Object.fromEntries(FILES.map((f) => [f.filename, hex(f.bytes)])),
    );
    expect(after.states).toHaveLength(1);
    expect(after.states[0]!.assets.every((a) => a.sha256 !== null)).toBe(true);
    // The plan's events are kept as they were.
    expect(after.events.map((e) => [e.kind, e.createdAt])).toEqual([["status_changed", 1795183421377]]);
    expect(await t.query(api.jobs.getPublic, { jobId: JOB })).toEqual(before);

    // Running them again changes nothing.
    const snapshot = JSON.stringify(after);
    await t.mutation(internal.migrations.runAll, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const again = await rows(t);
    expect(JSON.stringify(again)).toBe(snapshot);
  });
});
