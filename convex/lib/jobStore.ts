/**
 * Plain handlers behind the registered functions: upserting a record monotonically, saving
 * asset rows (replacing and deleting old blobs), and reading the state the daemon diffs
 * against. Registered functions in `jobs.ts`, `assets.ts` and `sync.ts` delegate here, so the
 * seed's one-at-a-time surface and the daemon's atomic commit share one implementation.
 */
import { convexToJson, type Infer, type Value } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel.js";
import type { MutationCtx, QueryCtx } from "../_generated/server.js";
import { listedFilenames } from "./componentText.js";
import { fail } from "./errors.js";
import { findDocumentProblem } from "./limits.js";
import { recordStageChange } from "./timeline.js";
import { isoToMicros } from "./time.js";
import type { assetInput, commitOutcome, commitResult, jobRecord, remoteJobState, syncJobFields } from "./validators.js";

export type JobRecordInput = Infer<typeof jobRecord>;
export type AssetInput = Infer<typeof assetInput>;
export type RemoteJobState = Infer<typeof remoteJobState>;
export type SeedAssetInput = Omit<AssetInput, "role" | "sha256" | "sourceMtimeMs"> & {
  role: string;
  sha256?: string;
  sourceMtimeMs?: number;
};

export type CommitOutcome = Infer<typeof commitOutcome>;
export type CommitResult = Infer<typeof commitResult>;

export async function findJob(ctx: QueryCtx, jobId: string): Promise<Doc<"jobs"> | null> {
  return await ctx.db
    .query("jobs")
    .withIndex("by_job_id", (q) => q.eq("jobId", jobId))
    .unique();
}

export async function findAsset(ctx: QueryCtx, jobId: string, filename: string): Promise<Doc<"jobAssets"> | null> {
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

/** A `jobs` row as written: the plan's fields and this project's (validators.ts). */
export type StoredJobInput = Omit<Doc<"jobs">, "_id" | "_creationTime">;

/** The version a stored row holds, in microseconds: rows written by the plan's functions lack `updatedAtUs`. */
export function storedVersionUs(row: { updatedAt: number; updatedAtUs?: number }): number {
  return row.updatedAtUs ?? row.updatedAt * 1000;
}

/**
 * The daemon's record as a row: the version from its ISO text (microseconds), checked against
 * the epoch milliseconds it also carries, which must be the same instant.
 */
function daemonRow(record: JobRecordInput): StoredJobInput & { updatedAtUs: number } {
  const updatedAtUs = isoToMicros(record.updatedAtIso);
  if (updatedAtUs === null) {
    fail({
      code: "INVALID_ARGUMENT",
      field: "updatedAtIso",
      jobId: record.jobId,
      message: `updatedAtIso must be an ISO-8601 timestamp, got ${JSON.stringify(record.updatedAtIso)}`,
    });
  }
  if (Math.floor(updatedAtUs / 1000) !== record.updatedAt) {
    fail({
      code: "INVALID_ARGUMENT",
      field: "updatedAt",
      jobId: record.jobId,
      message: `updatedAt (${record.updatedAt}) is not the epoch milliseconds of updatedAtIso (${record.updatedAtIso})`,
    });
  }
  return { ...record, updatedAtUs };
}

function checkLimits(doc: StoredJobInput): void {
  const problem = findDocumentProblem(doc);
  if (problem) {
    fail({
      code: "VALUE_LIMIT",
      field: problem.field,
      jobId: doc.jobId,
      message: `job ${doc.jobId}: field \`${problem.field}\` ${problem.reason}`,
    });
  }
}

/** The row's content, without system fields or the daemon's fingerprints, in a comparable form. */
function contentOf(row: Record<string, unknown>): string {
  const { _id, _creationTime, recordHash: _r, sourceHash: _s, ...rest } = row;
  return JSON.stringify(convexToJson(rest as Value), (_k, value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

type WriteResult = { outcome: CommitOutcome; existing: Doc<"jobs"> | null };

/**
 * Writes `doc` as the job's row unless the stored one is newer (by `updatedAtUs`). Equal
 * versions with equal content (the record hash when both have one) are a no-op; equal versions
 * with different content take the newer write. Every stage transition lands in the timeline.
 */
async function writeJobRow(
  ctx: MutationCtx,
  doc: StoredJobInput & { updatedAtUs: number },
  existing: Doc<"jobs"> | null,
): Promise<WriteResult> {
  const { updatedAtUs, recordHash } = doc;
  if (existing === null) {
    await ctx.db.insert("jobs", doc);
    await recordStageChange(ctx, null, doc, updatedAtUs);
    return { outcome: "created", existing };
  }
  const storedUs = storedVersionUs(existing);
  if (updatedAtUs < storedUs) return { outcome: "stale", existing };
  if (updatedAtUs === storedUs) {
    const same =
      recordHash !== undefined && existing.recordHash !== undefined
        ? existing.recordHash === recordHash
        : contentOf(existing) === contentOf(doc);
    if (same) {
      // The same record from differently written bytes (or first seen by a daemon that sends
      // the fingerprint): remember the new fingerprint, so the next check can skip the parse.
      if (doc.sourceHash !== undefined && existing.sourceHash !== doc.sourceHash) {
        await ctx.db.patch(existing._id, { sourceHash: doc.sourceHash });
      }
      return { outcome: "unchanged", existing };
    }
  }
  // `replace` drops optional fields that the new record no longer has (e.g. retryAfter).
  await ctx.db.replace(existing._id, doc);
  await recordStageChange(ctx, existing, doc, updatedAtUs);
  return { outcome: "updated", existing };
}

/** The daemon's write (`sync:commit`): microsecond versions, its hashes kept on the row. */
export async function upsertJobRow(
  ctx: MutationCtx,
  record: JobRecordInput,
  recordHash: string,
  sourceHash?: string,
): Promise<WriteResult> {
  const doc = { ...daemonRow(record), recordHash, ...(sourceHash === undefined ? {} : { sourceHash }) };
  checkLimits(doc);
  return await writeJobRow(ctx, doc, await findJob(ctx, record.jobId));
}

export type PlanUpsertInput = Omit<StoredJobInput, "createdAt" | "updatedAt" | keyof typeof syncJobFields> & {
  createdAt?: number;
  updatedAt?: number;
};

/**
 * A plan-style write (`jobs:upsert`): epoch milliseconds, filled with the server's clock when
 * absent (`createdAt` from the stored row, if any). Monotonic at millisecond precision: a write
 * whose millisecond is older than the stored version's is ignored; one within the same
 * millisecond keeps the stored microseconds, so a daemon's finer version of that instant is
 * never rolled back below what it was.
 */
export async function upsertPlanJobRow(ctx: MutationCtx, input: PlanUpsertInput): Promise<WriteResult> {
  const now = Date.now();
  const existing = await findJob(ctx, input.jobId);
  const updatedAt = input.updatedAt ?? now;
  const storedUs = existing === null ? null : storedVersionUs(existing);
  if (storedUs !== null && updatedAt < Math.floor(storedUs / 1000)) return { outcome: "stale", existing };
  const updatedAtUs = storedUs !== null && updatedAt === Math.floor(storedUs / 1000) ? storedUs : updatedAt * 1000;
  const doc = { ...input, createdAt: input.createdAt ?? existing?.createdAt ?? now, updatedAt, updatedAtUs };
  checkLimits(doc);
  return await writeJobRow(ctx, doc, existing);
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
    // When the row was first saved; a replaced blob keeps it.
    createdAt: existing?.createdAt ?? Date.now(),
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

/**
 * Deletes a blob that no asset row points at any more. Missing blobs are fine. `known`: the
 * caller read the blob's `_storage` row in this transaction, so it exists.
 */
export async function deleteBlobIfUnreferenced(
  ctx: MutationCtx,
  storageId: Id<"_storage">,
  opts: { known?: boolean } = {},
): Promise<boolean> {
  const stillUsed = await ctx.db
    .query("jobAssets")
    .withIndex("by_storage", (q) => q.eq("storageId", storageId))
    .first();
  if (stillUsed !== null) return false;
  // `storage.delete` throws on a missing id; a retried commit may already have deleted it.
  if (opts.known !== true && (await ctx.db.system.get(storageId)) === null) return false;
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
  const rows = await listAssets(ctx, jobId);
  const assets = [];
  for (const a of rows) {
    assets.push({
      role: a.role,
      filename: a.filename,
      storageId: a.storageId,
      contentType: a.contentType,
      bytes: a.bytes,
      sha256: a.sha256 ?? (await blobSha256Hex(ctx, a.storageId)),
      sourceMtimeMs: a.sourceMtimeMs ?? null,
    });
  }
  return {
    jobId,
    updatedAtUs: storedVersionUs(job),
    recordHash: job.recordHash ?? null,
    sourceHash: job.sourceHash ?? null,
    status: job.status,
    assets,
  };
}

/**
 * The sha256 (hex) Convex recorded for a stored file (`_storage.sha256` is base64), for rows
 * saved without one (the plan's `assets:save`): the daemon then compares it with the local
 * file's hash and re-uploads only if the bytes differ. Null for a blob that is gone.
 */
export async function blobSha256Hex(ctx: QueryCtx, storageId: Id<"_storage">): Promise<string | null> {
  const blob = await ctx.db.system.get(storageId);
  if (blob === null) return null;
  const raw = atob(blob.sha256);
  let hex = "";
  for (let i = 0; i < raw.length; i++) hex += raw.charCodeAt(i).toString(16).padStart(2, "0");
  return hex;
}

function sameState(a: RemoteJobState, b: RemoteJobState): boolean {
  const canon = (s: RemoteJobState) =>
    JSON.stringify([
      s.jobId,
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
export async function refreshSyncState(ctx: MutationCtx, jobId: string): Promise<RemoteJobState | null> {
  const state = await remoteStateOf(ctx, jobId);
  const stored = await findSyncState(ctx, jobId);
  if (state === null) {
    if (stored !== null) await ctx.db.delete(stored._id);
    return null;
  }
  if (stored === null) {
    await ctx.db.insert("jobSyncStates", state);
    return state;
  }
  const { _id, _creationTime, ...current } = stored;
  if (!sameState(current, state)) await ctx.db.replace(_id, state);
  return state;
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
