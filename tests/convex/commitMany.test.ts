/**
 * `sync:commitMany`: several jobs' commits in one mutation, each exactly as `sync:commit` makes
 * it (atomic, idempotent, monotonic), one result per job in order; any job's refusal aborts the
 * whole batch with nothing written, so that committing the jobs one by one then names the job
 * at fault and commits the others; bounded within Convex's per-transaction limits.
 */
import { convexTest } from "convex-test";
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import { MAX_COMMIT_ASSETS, MAX_COMMIT_BATCH } from "../../convex/lib/commitJob.js";
import type { AssetInput, JobRecordInput } from "../../convex/lib/jobStore.js";
import { MAX_TRACE_EVENTS, type TraceInput } from "../../convex/lib/timeline.js";
import schema from "../../convex/schema.js";
import {
  assetFor,
  atInstant,
  blobExists,
  type ConvexHarness,
  expectConvexError,
  hashed,
  loadSample,
  modules,
  newConvexTest,
  snapshotTables,
  storeBlob,
  TOKEN,
  useFixedClock,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

useFixedClock();

const succeeded = loadSample("04-succeeded.job.json");
const queued = loadSample("01-queued.job.json");
const PNG = "ivy_sign_frame.png";
const MASK = "ivy_sign_frame_mask.png";
const DEBUG = "ivy_sign_frame_debug.png";

type Commit = {
  job: JobRecordInput;
  recordHash: string;
  sourceHash?: string;
  assets: AssetInput[];
  removeFilenames?: string[];
  trace?: TraceInput;
};

/** The sample record under another job id (so several jobs can share one batch). */
function asJob(job: JobRecordInput, jobId: string): { job: JobRecordInput; recordHash: string } {
  return hashed({ ...job, jobId });
}

/** A finished job with its three listed PNGs uploaded (distinct blobs per job). */
async function finishedJob(t: ConvexHarness, jobId: string): Promise<Commit> {
  const assets: AssetInput[] = [];
  for (const f of [PNG, MASK, DEBUG]) assets.push(assetFor(f, await storeBlob(t, `${jobId}:${f}`), { sha256: `${jobId}:${f}` }));
  return { ...asJob(succeeded.job, jobId), assets };
}

async function commitMany(t: ConvexHarness, commits: Commit[]) {
  return await t.mutation(api.sync.commitMany, { serviceToken: TOKEN, commits });
}

async function states(t: ConvexHarness, jobIds: string[]) {
  return await t.query(api.sync.getStates, { serviceToken: TOKEN, jobIds });
}

describe("sync:commitMany", () => {
  test("sync:commitMany › commits every job of the batch, one result per job in order, each what sync:commit answers", async () => {
    const batched = newConvexTest();
    const single = newConvexTest();
    const ids = ["job-a", "job-b", "job-c"];
    const results = await commitMany(batched, await Promise.all(ids.map((id) => finishedJob(batched, id))));
    const alone = [];
    for (const id of ids) alone.push(await single.mutation(api.sync.commit, { serviceToken: TOKEN, ...(await finishedJob(single, id)) }));
    expect(results.map((r) => r.state?.jobId)).toEqual(ids);
    expect(results.map((r) => r.outcome)).toEqual(["created", "created", "created"]);
    // The same results, rows and events as three separate commits (but for the blobs' ids).
    const withoutBlobIds = (rs: typeof results) =>
      rs.map((r) => ({ ...r, state: r.state && { ...r.state, assets: r.state.assets.map(({ storageId: _, ...a }) => a) } }));
    expect(withoutBlobIds(results)).toEqual(withoutBlobIds(alone));
    expect(await states(batched, ids)).toEqual(results.map((r) => r.state));
    const tables = async (t: ConvexHarness) => {
      const s = await snapshotTables(t);
      return Object.fromEntries(Object.entries(s).map(([k, rows]) => [k, rows.length]));
    };
    expect(await tables(batched)).toEqual(await tables(single));
  });

  test("sync:commitMany › each job stays monotonic: a stale job is ignored whole while the others commit", async () => {
    const t = newConvexTest();
    const newer = atInstant(succeeded.job, "2026-11-20T14:10:00.000000+00:00");
    await t.mutation(api.sync.commit, { serviceToken: TOKEN, ...(await finishedJob(t, "job-a")), ...asJob(newer, "job-a") });
    const older = await finishedJob(t, "job-a"); // fresh uploads for an older record
    const other = await finishedJob(t, "job-b");
    const results = await commitMany(t, [older, other]);
    expect(results.map((r) => r.outcome)).toEqual(["stale", "created"]);
    // The stale job's fresh uploads are deleted, as sync:commit deletes them.
    for (const a of older.assets) expect(await blobExists(t, a.storageId)).toBe(false);
    expect(results[0]!.state?.updatedAtUs).toBe((await states(t, ["job-a"]))[0]!.updatedAtUs);
    // Replaying the batch changes nothing.
    const again = await commitMany(t, [other]);
    expect(again).toEqual([{ outcome: "unchanged", assetsChanged: 0, assetsRemoved: 0, state: results[1]!.state }]);
  });

  test("sync:commitMany › one job's refusal aborts the whole batch with nothing written; committed alone, the others go through", async () => {
    const t = newConvexTest();
    const good = [await finishedJob(t, "job-a"), await finishedJob(t, "job-c")];
    const missing = await finishedJob(t, "job-b");
    missing.assets = missing.assets.filter((a) => a.filename !== DEBUG);
    const before = await snapshotTables(t);
    const data = await expectConvexError(commitMany(t, [good[0]!, missing, good[1]!]), "MISSING_ASSET");
    // The error names the job at fault; no job of the batch was written, not even the one before it.
    expect(data).toMatchObject({ jobId: "job-b", filename: DEBUG });
    expect(await snapshotTables(t)).toEqual(before);
    // What a caller does with a refused batch: commit each job alone.
    for (const c of good) expect(await t.mutation(api.sync.commit, { serviceToken: TOKEN, ...c })).toMatchObject({ outcome: "created" });
    await expectConvexError(t.mutation(api.sync.commit, { serviceToken: TOKEN, ...missing }), "MISSING_ASSET");
    expect((await states(t, ["job-a", "job-b", "job-c"])).map((s) => s?.status ?? null)).toEqual(["succeeded", null, "succeeded"]);
  });

  test("sync:commitMany › checks the service token once for the batch", async () => {
    const t = newConvexTest();
    const c = { ...asJob(queued.job, "job-a"), assets: [] };
    await expectConvexError(t.mutation(api.sync.commitMany, { serviceToken: "wrong-token-0000", commits: [c] }), "UNAUTHORIZED");
    expect(await states(t, ["job-a"])).toEqual([null]);
  });

  test(`sync:commitMany › refuses more than ${MAX_COMMIT_BATCH} jobs or ${MAX_COMMIT_ASSETS} asset rows in a batch as our bound (no jobId), writing nothing`, async () => {
    const t = newConvexTest();
    const tooMany = Array.from({ length: MAX_COMMIT_BATCH + 1 }, (_, i) => ({ ...asJob(queued.job, `job-${i}`), assets: [] }));
    const before = await snapshotTables(t);
    let data = await expectConvexError(commitMany(t, tooMany), "INVALID_ARGUMENT");
    expect(data).toMatchObject({ field: "commits" });
    expect(data).not.toHaveProperty("jobId");
    const blob = await storeBlob(t, "shared");
    const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => assetFor(`${tag}_${i}.png`, blob));
    const half = MAX_COMMIT_ASSETS / 2;
    data = await expectConvexError(
      commitMany(t, [
        { ...asJob(queued.job, "job-a"), assets: rows(half, "a") },
        { ...asJob(queued.job, "job-b"), assets: rows(half, "b"), removeFilenames: ["gone.png"] },
      ]),
      "INVALID_ARGUMENT",
    );
    expect(data).not.toHaveProperty("jobId");
    expect(data.message).toContain(String(MAX_COMMIT_ASSETS + 1));
    expect({ ...(await snapshotTables(t)), _storage: before._storage }).toEqual(before);
  });

  test(`sync:commitMany › a full batch (${MAX_COMMIT_BATCH} jobs, ${MAX_COMMIT_ASSETS} asset rows, a full trace each) stays within Convex's transaction limits`, async () => {
    const t = convexTest({ schema, modules, transactionLimits: true });
    const perJob = MAX_COMMIT_ASSETS / MAX_COMMIT_BATCH;
    const data = "x".repeat(1000);
    const trace: TraceInput = {
      events: Array.from({ length: MAX_TRACE_EVENTS }, (_, i) => ({
        index: i,
        eventType: "step",
        timestamp: `2026-11-20T14:04:${String(i % 60).padStart(2, "0")}.000000+00:00`,
        dataJson: JSON.stringify({ i, data }),
        dataBytes: data.length + 20,
      })),
      totalEvents: MAX_TRACE_EVENTS + 50,
    };
    const commits: Commit[] = [];
    for (let j = 0; j < MAX_COMMIT_BATCH; j++) {
      const assets: AssetInput[] = [];
      for (let i = 0; i < perJob; i++) assets.push(assetFor(`extra_${i}.png`, await storeBlob(t, `${j}:${i}`)));
      commits.push({ ...asJob(queued.job, `job-${j}`), assets, trace });
    }
    const results = await commitMany(t, commits);
    expect(results.every((r) => r.outcome === "created" && r.assetsChanged === perJob)).toBe(true);
  });
});
