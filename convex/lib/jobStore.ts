/**
 * Plain handlers behind the registered functions: upserting a record monotonically, saving
 * asset rows (replacing and deleting old blobs), and reading the state the daemon diffs
 * against. Registered functions in `jobs.ts`, `assets.ts` and `sync.ts` delegate here, so the
 * seed's one-at-a-time surface and the daemon's atomic commit share one implementation.
 */
import type { Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { listedFilenames } from "./componentText.js";
import { fail } from "./errors.js";
import { findDocumentProblem } from "./limits.js";
import { isoToMicros } from "./time.js";
import type { assetInput, jobRecord, remoteJobState } from "./validators.js";

export type JobRecordInput = Infer<typeof jobRecord>;
export type AssetInput = Infer<typeof assetInput>;
export type RemoteJobState = Infer<typeof remoteJobState>;
export type SeedAssetInput = Omit<AssetInput, "sha256" | "sourceMtimeMs"> & {
  sha256?: string;
  sourceMtimeMs?: number;
};

export type UpsertOutcome = "created" | "updated" | "unchanged" | "stale";

export async function findJob(ctx: QueryCtx, jobId: string): Promise<Doc<"jobs"> | null> {
  return await ctx.db
    .query("jobs")
    .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
    .unique();
}

export async function findAsset(
  ctx: QueryCtx,
  jobId: string,
  filename: string,
): Promise<Doc<"jobAssets"> | null> {
  return await ctx.db
    .query("jobAssets")
    .withIndex("by_job", (q) => q.eq("jobId", jobId).eq("filename", filename))
    .unique();
}

/**
 * Most asset rows one job may have, and so most in one commit. A job has a handful; the bound
 * keeps the heaviest commit within half of every per-transaction limit (at 256 assets: about
 * 520 index ranges of 4,096, 800 documents written of 16,000) and every state read complete.
 */
export const MAX_ASSETS_PER_JOB = 256;

export async function listAssets(ctx: QueryCtx, jobId: string): Promise<Doc<"jobAssets">[]> {
  return await ctx.db
    .query("jobAssets")
    .withIndex("by_job", (q) => q.eq("jobId", jobId))
    .take(MAX_ASSETS_PER_JOB);
}

function timestampOf(record: JobRecordInput): number {
  const us = isoToMicros(record.updatedAt);
  if (us === null) {
    fail({
      code: "INVALID_ARGUMENT",
      field: "updatedAt",
      jobId: record.jobId,
      message: `updatedAt must be an ISO-8601 timestamp, got ${JSON.stringify(record.updatedAt)}`,
    });
  }
  return us;
}

/**
 * Inserts or replaces the job row unless the stored one is newer. Equal timestamps with an
 * equal hash are a no-op; equal timestamps with different content take the newer write.
 */
export async function upsertJobRow(
  ctx: MutationCtx,
  record: JobRecordInput,
  recordHash: string | undefined,
  sourceHash?: string,
): Promise<{ outcome: UpsertOutcome; existing: Doc<"jobs"> | null }> {
  const updatedAtUs = timestampOf(record);
  const doc = {
    ...record,
    updatedAtUs,
    ...(recordHash === undefined ? {} : { recordHash }),
    ...(sourceHash === undefined ? {} : { sourceHash }),
  };
  const problem = findDocumentProblem(doc);
  if (problem) {
    fail({
      code: "VALUE_LIMIT",
      field: problem.field,
      jobId: record.jobId,
      message: `job ${record.jobId}: field \`${problem.field}\` ${problem.reason}`,
    });
  }
  const existing = await findJob(ctx, record.jobId);
  if (existing === null) {
    await ctx.db.insert("jobs", doc);
    return { outcome: "created", existing };
  }
  if (updatedAtUs < existing.updatedAtUs) return { outcome: "stale", existing };
  if (
    updatedAtUs === existing.updatedAtUs &&
    recordHash !== undefined &&
    existing.recordHash === recordHash
  ) {
    // The same record from differently written bytes (or first seen by a daemon that sends
    // the fingerprint): remember the new fingerprint, so the next check can skip the parse.
    if (sourceHash !== undefined && existing.sourceHash !== sourceHash) await ctx.db.patch(existing._id, { sourceHash });
    return { outcome: "unchanged", existing };
  }
  // `replace` drops optional fields that the new record no longer has (e.g. retryAfter).
  await ctx.db.replace(existing._id, doc);
  return { outcome: "updated", existing };
}

async function requireBlob(ctx: MutationCtx, jobId: string, asset: SeedAssetInput): Promise<void> {
  const blob = await ctx.db.system.get(asset.storageId);
  if (blob === null) {
    fail({
      code: "UNKNOWN_STORAGE_ID",
      jobId,
      filename: asset.filename,
      message: `job ${jobId}: ${asset.filename} refers to storage id ${asset.storageId}, which does not exist`,
    });
  }
}

/**
 * Points (jobId, filename) at a blob. A replaced blob is deleted; an identical row is a
 * no-op. Returns what happened, for the audit trail.
 */
export async function saveAssetRow(
  ctx: MutationCtx,
  jobId: string,
  asset: SeedAssetInput,
): Promise<"asset_saved" | "asset_replaced" | "unchanged"> {
  const existing = await findAsset(ctx, jobId, asset.filename);
  const row = {
    jobId,
    role: asset.role,
    filename: asset.filename,
    storageId: asset.storageId,
    contentType: asset.contentType,
    bytes: asset.bytes,
    ...(asset.sha256 === undefined ? {} : { sha256: asset.sha256 }),
    ...(asset.sourceMtimeMs === undefined ? {} : { sourceMtimeMs: asset.sourceMtimeMs }),
  };
  if (existing === null) {
    await requireBlob(ctx, jobId, asset);
    await ctx.db.insert("jobAssets", row);
    return "asset_saved";
  }
  if (existing.storageId === asset.storageId) {
    if (
      existing.role === row.role &&
      existing.contentType === row.contentType &&
      existing.bytes === row.bytes &&
      existing.sha256 === row.sha256 &&
      existing.sourceMtimeMs === row.sourceMtimeMs
    ) {
      return "unchanged";
    }
    await ctx.db.replace(existing._id, row);
    return "asset_replaced";
  }
  await requireBlob(ctx, jobId, asset);
  await ctx.db.replace(existing._id, row);
  await deleteBlobIfUnreferenced(ctx, existing.storageId);
  return "asset_replaced";
}

/** Deletes a blob that no asset row points at any more. Missing blobs are fine. */
export async function deleteBlobIfUnreferenced(ctx: MutationCtx, storageId: Id<"_storage">): Promise<boolean> {
  const stillUsed = await ctx.db
    .query("jobAssets")
    .withIndex("by_storage", (q) => q.eq("storageId", storageId))
    .first();
  if (stillUsed !== null) return false;
  // `storage.delete` throws on a missing id; a retried commit may already have deleted it.
  if ((await ctx.db.system.get(storageId)) === null) return false;
  await ctx.storage.delete(storageId);
  return true;
}

export async function removeAssetRow(ctx: MutationCtx, jobId: string, filename: string): Promise<boolean> {
  const existing = await findAsset(ctx, jobId, filename);
  if (existing === null) return false;
  await ctx.db.delete(existing._id);
  await deleteBlobIfUnreferenced(ctx, existing.storageId);
  return true;
}

/** Filenames a record's component lists in `component.assets`, in order: from its text, or a plan-style object. */
export function componentFilenames(record: { component?: unknown; componentJson?: string | null }): string[] {
  if (typeof record.componentJson === "string") return listedFilenames(record.componentJson);
  const component = record.component;
  if (component === null || typeof component !== "object") return [];
  const assets = (component as { assets?: unknown }).assets;
  if (assets === null || typeof assets !== "object" || Array.isArray(assets)) return [];
  return Object.keys(assets);
}

export async function remoteStateOf(ctx: QueryCtx, jobId: string): Promise<RemoteJobState | null> {
  const job = await findJob(ctx, jobId);
  if (job === null) return null;
  const assets = await listAssets(ctx, jobId);
  return {
    jobId,
    updatedAt: job.updatedAt,
    updatedAtUs: job.updatedAtUs,
    recordHash: job.recordHash ?? null,
    sourceHash: job.sourceHash ?? null,
    status: job.status,
    assets: assets.map((a) => ({
      role: a.role,
      filename: a.filename,
      storageId: a.storageId,
      contentType: a.contentType,
      bytes: a.bytes,
      sha256: a.sha256 ?? null,
      sourceMtimeMs: a.sourceMtimeMs ?? null,
    })),
  };
}

function sameState(a: RemoteJobState, b: RemoteJobState): boolean {
  const canon = (s: RemoteJobState) =>
    JSON.stringify([
      s.jobId,
      s.updatedAt,
      s.updatedAtUs,
      s.recordHash,
      s.sourceHash,
      s.status,
      s.assets.map((x) => [x.filename, x.role, x.storageId, x.contentType, x.bytes, x.sha256, x.sourceMtimeMs]),
    ]);
  return canon(a) === canon(b);
}

async function findSyncState(ctx: QueryCtx, jobId: string): Promise<Doc<"jobSyncStates"> | null> {
  return await ctx.db
    .query("jobSyncStates")
    .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
    .unique();
}

/**
 * Rewrites the job's `jobSyncStates` row from `jobs` and `jobAssets`. Every mutation that
 * changes either calls it last; it writes nothing when the state did not change.
 */
export async function refreshSyncState(ctx: MutationCtx, jobId: string): Promise<void> {
  const state = await remoteStateOf(ctx, jobId);
  const stored = await findSyncState(ctx, jobId);
  if (state === null) {
    if (stored !== null) await ctx.db.delete(stored._id);
    return;
  }
  if (stored === null) {
    await ctx.db.insert("jobSyncStates", state);
    return;
  }
  const { _id, _creationTime, ...current } = stored;
  if (!sameState(current, state)) await ctx.db.replace(_id, state);
}

/**
 * The state `sync:getStates` serves: the job's `jobSyncStates` row, one small read; for a job
 * written before that table existed, computed from `jobs` and `jobAssets`.
 */
export async function syncStateOf(ctx: QueryCtx, jobId: string): Promise<RemoteJobState | null> {
  const stored = await findSyncState(ctx, jobId);
  if (stored === null) return await remoteStateOf(ctx, jobId);
  const { _id, _creationTime, ...state } = stored;
  return state;
}

export async function logEvent(
  ctx: MutationCtx,
  jobId: string,
  kind: Doc<"jobEvents">["kind"],
  extra: { updatedAt?: string; detail?: string } = {},
): Promise<void> {
  await ctx.db.insert("jobEvents", { jobId, kind, at: Date.now(), ...extra });
}
