/**
 * One job's commit, the body `sync:commit` runs for one job and `sync:commitMany` for each job
 * of a batch: upserts the record and its changed asset rows, so a reader never sees a
 * component whose assets have no URL. Idempotent: replaying the same commit changes nothing.
 * A commit older than the stored record is ignored whole (its fresh uploads are deleted).
 *
 * It throws rather than return a refusal, on purpose: a Convex mutation cannot roll back part of
 * its writes, so a refusal found after this job's first write (MISSING_ASSET, a document over a
 * limit) must abort the whole transaction, or the job would be left half written.
 */
import { type Infer, v } from "convex/values";
import type { MutationCtx } from "../_generated/server.js";
import { fail } from "./errors.js";
import {
  componentFilenames,
  deleteBlobIfUnreferenced,
  findAsset,
  MAX_ASSETS_PER_JOB,
  refreshSyncState,
  removeAssetRow,
  saveAssetRow,
  syncStateOf,
  upsertJobRow,
  type CommitResult,
} from "./jobStore.js";
import { recordBookkeeping, recordTrace, traceInput } from "./timeline.js";
import { assetInput, jobRecord } from "./validators.js";

/** A commit carries at most every asset a job may have (see MAX_ASSETS_PER_JOB). */
export const MAX_COMMIT_ASSETS = MAX_ASSETS_PER_JOB;

/**
 * Jobs in one `sync:commitMany`. A job's commit writes its record, its sync state, a few
 * bookkeeping events, its asset rows and at most MAX_TRACE_EVENTS + 1 trace events: with the
 * batch's asset rows bounded by MAX_COMMIT_ASSETS, 32 jobs write under 4,000 documents and read
 * under 1,000 index ranges, within half of Convex's 16,000 and 4,096.
 */
export const MAX_COMMIT_BATCH = 32;

/**
 * What the daemon sends of a batch at most, in bytes of arguments: records, asset rows and
 * trace events are written about as large as they travel (the record once more as the
 * previous version read), so 4 MiB keeps a batch's reads and writes within half of Convex's
 * 16 MiB per transaction. A job larger than this alone is committed alone, by `sync:commit`.
 */
export const MAX_COMMIT_BATCH_BYTES = 4 * 1024 * 1024;

/** What one job's commit carries (the service token travels beside it, once per call). */
export const jobCommitFields = {
  job: jobRecord,
  recordHash: v.string(),
  sourceHash: v.optional(v.string()),
  assets: v.array(assetInput),
  removeFilenames: v.optional(v.array(v.string())),
  /** The job's trace events for its timeline (bounded by the daemon; lib/timeline.ts). */
  trace: v.optional(traceInput),
};

export const jobCommit = v.object(jobCommitFields);

export type JobCommit = Infer<typeof jobCommit>;

/** Asset rows a commit saves or removes, what MAX_COMMIT_ASSETS bounds in a batch. */
export function commitFileCount(c: Pick<JobCommit, "assets" | "removeFilenames">): number {
  return c.assets.length + (c.removeFilenames?.length ?? 0);
}

export async function commitJob(
  ctx: MutationCtx,
  { job, recordHash, sourceHash, assets, removeFilenames = [], trace }: JobCommit,
): Promise<CommitResult> {
  if (assets.length > MAX_COMMIT_ASSETS) {
    fail({
      code: "INVALID_ARGUMENT",
      field: "assets",
      // No jobId: this bound is ours, not a fault of the job's data (the daemon must not mark it).
      message: `job ${job.jobId}: expected at most ${MAX_COMMIT_ASSETS} assets in one commit, got ${assets.length}`,
    });
  }
  const { outcome } = await upsertJobRow(ctx, job, recordHash, sourceHash);
  if (outcome === "stale") {
    for (const a of assets) {
      const row = await findAsset(ctx, job.jobId, a.filename);
      if (row?.storageId !== a.storageId) await deleteBlobIfUnreferenced(ctx, a.storageId);
    }
    await recordBookkeeping(ctx, job.jobId, "stale_ignored", { updatedAt: job.updatedAtIso });
    return { outcome, assetsChanged: 0, assetsRemoved: 0, state: await syncStateOf(ctx, job.jobId) };
  }
  let assetsChanged = 0;
  for (const a of assets) {
    const result = await saveAssetRow(ctx, job.jobId, a);
    if (result !== "unchanged") {
      assetsChanged++;
      await recordBookkeeping(ctx, job.jobId, result, { filename: a.filename });
    }
  }
  let assetsRemoved = 0;
  const listed = new Set(componentFilenames(job));
  for (const filename of removeFilenames) {
    // Never remove what the record being committed still lists.
    if (listed.has(filename)) continue;
    if (await removeAssetRow(ctx, job.jobId, filename)) {
      assetsRemoved++;
      await recordBookkeeping(ctx, job.jobId, "asset_removed", { filename });
    }
  }
  for (const filename of listed) {
    if ((await findAsset(ctx, job.jobId, filename)) === null) {
      // Throwing rolls the whole commit back: the previous public state stays intact.
      fail({
        code: "MISSING_ASSET",
        jobId: job.jobId,
        filename,
        message: `job ${job.jobId}: the component lists ${filename} but no asset was committed for it`,
      });
    }
  }
  if (outcome !== "unchanged") await recordBookkeeping(ctx, job.jobId, outcome, { updatedAt: job.updatedAtIso });
  if (trace !== undefined) await recordTrace(ctx, job.jobId, trace);
  const state = await refreshSyncState(ctx, job.jobId);
  return { outcome, assetsChanged, assetsRemoved, state };
}
