/**
 * Validators shared by the schema and the functions: the single description of a job
 * record as Convex stores it (the camelCase mirror of JobRecord.v1).
 */
import { v } from "convex/values";
import { ASSET_ROLES } from "./roles.js";

/**
 * The service token argument of every token-checked function. Optional on purpose: a call
 * without it must reach `requireServiceToken` and fail with the stable `UNAUTHORIZED` code,
 * not with an argument validation error that carries no `ConvexError.data` and would be
 * classified as a permanent refusal of the job's data instead of a fatal auth problem.
 */
export const serviceTokenArg = v.optional(v.string());

export const jobStatus = v.union(v.literal("queued"), v.literal("running"), v.literal("succeeded"), v.literal("failed"));

export const assetRole = v.union(...ASSET_ROLES.map((role) => v.literal(role)));

/**
 * What a record write did: `sync:commit` and the plan's `jobs:upsert` both answer with it.
 * `stale`: the stored record is newer, nothing was written.
 */
export const commitOutcome = v.union(v.literal("created"), v.literal("updated"), v.literal("unchanged"), v.literal("stale"));

/**
 * The plan's `jobs` fields, typed as the plan typed them (the pipeline's earlier in-process
 * client wrote them): `createdAt`/`updatedAt` are epoch milliseconds, `status` a string, and an
 * absent optional value may be stored as `null`. A deployment holding plan-written rows must
 * validate under this schema, so these stay exactly as wide as the plan's.
 */
export const planJobFields = {
  jobId: v.string(),
  status: v.string(),
  progressStage: v.optional(v.union(v.string(), v.null())),
  prompt: v.string(),
  styleContext: v.optional(v.union(v.string(), v.null())),
  name: v.optional(v.union(v.string(), v.null())),
  layoutIntent: v.optional(v.union(v.string(), v.null())),
  renderSizeHint: v.optional(v.union(v.number(), v.null())),
  internalAssetType: v.string(),
  /**
   * The component as an object, as the plan's clients write it. The daemon never does: its
   * filenames may be any unicode, which field names cannot hold; it sends `componentJson`.
   */
  component: v.optional(v.any()),
  telemetry: v.optional(v.any()),
  error: v.optional(v.union(v.string(), v.null())),
  retryAfter: v.optional(v.union(v.number(), v.null())),
  createdAt: v.number(),
  updatedAt: v.number(),
};

/** What this project stores on a `jobs` row beyond the plan. Optional: plan rows lack them. */
export const syncJobFields = {
  /** The component's JSON text exactly as job.json holds it (see lib/componentText.ts). */
  componentJson: v.optional(v.union(v.string(), v.null())),
  /** job.json's `created_at` / `updated_at` as written (ISO-8601, microseconds, offset). */
  createdAtIso: v.optional(v.string()),
  updatedAtIso: v.optional(v.string()),
  /**
   * Monotonic writes: `updatedAtIso` in microseconds since the epoch (a plan-style write:
   * `updatedAt` × 1000). A write older than the stored one is ignored. Rows without it (written
   * by the plan's functions) are read as `updatedAt` × 1000 until the migration fills it.
   */
  updatedAtUs: v.optional(v.number()),
  /** sha256 (hex) of the canonical record the daemon sent: an unchanged record is recognised without comparing fields. */
  recordHash: v.optional(v.string()),
  /**
   * The daemon's fingerprint of the job.json bytes that record was read from (sha256 hex,
   * salted with its reader's version): an unchanged file is recognised without parsing it.
   */
  sourceHash: v.optional(v.string()),
};

/** `jobs:upsert`'s arguments: the plan's fields, timestamps optional (the function fills them). */
export const planUpsertFields = {
  ...planJobFields,
  createdAt: v.optional(v.number()),
  updatedAt: v.optional(v.number()),
};

/**
 * JobRecord.v1 as the daemon commits it: camelCase, `type` as `internalAssetType`, the
 * timestamps both as the plan's epoch milliseconds and as job.json's ISO text (whose
 * microseconds keep monotonic writes exact), the component as its JSON text.
 */
export const jobFields = {
  jobId: v.string(),
  status: jobStatus,
  internalAssetType: v.string(),
  layoutIntent: v.optional(v.union(v.string(), v.null())),
  prompt: v.string(),
  styleContext: v.optional(v.union(v.string(), v.null())),
  name: v.optional(v.union(v.string(), v.null())),
  createdAt: v.number(),
  updatedAt: v.number(),
  createdAtIso: v.string(),
  updatedAtIso: v.string(),
  progressStage: v.optional(v.union(v.string(), v.null())),
  componentJson: v.union(v.string(), v.null()),
  error: v.union(v.string(), v.null()),
  renderSizeHint: v.optional(v.number()),
  retryAfter: v.optional(v.number()),
  telemetry: v.optional(v.any()),
};

export const jobRecord = v.object(jobFields);

/**
 * An asset row as the table stores it: the plan's fields (`role` a string, `createdAt` epoch
 * ms), then what diffing needs, `sha256` (hex) and `sourceMtimeMs` (size is `bytes`); optional
 * because the plan's `assets:save` does not send them (see `remoteStateOf` for such rows).
 */
export const jobAssetFields = {
  jobId: v.string(),
  role: v.string(),
  filename: v.string(),
  storageId: v.id("_storage"),
  contentType: v.string(),
  bytes: v.number(),
  createdAt: v.number(),
  sha256: v.optional(v.string()),
  sourceMtimeMs: v.optional(v.number()),
};

const { createdAt: _setByTheServer, ...saveFields } = jobAssetFields;

/**
 * `assets:save`'s arguments: the plan's `{jobId, role, filename, storageId, contentType, bytes}`
 * (and the optional hashes): an asset row's fields but `createdAt`, which the server sets.
 */
export const planSaveFields = saveFields;

/** One asset row as the daemon commits it. */
export const assetInput = v.object({
  role: assetRole,
  filename: v.string(),
  storageId: v.id("_storage"),
  contentType: v.string(),
  bytes: v.number(),
  sha256: v.string(),
  sourceMtimeMs: v.number(),
});

/** What the daemon needs to diff one job without reading the record itself. */
export const remoteAssetState = v.object({
  role: v.string(),
  filename: v.string(),
  storageId: v.id("_storage"),
  contentType: v.string(),
  bytes: v.number(),
  sha256: v.union(v.string(), v.null()),
  sourceMtimeMs: v.union(v.number(), v.null()),
});

export const remoteJobStateFields = {
  jobId: v.string(),
  updatedAtUs: v.number(),
  recordHash: v.union(v.string(), v.null()),
  /** The daemon's fingerprint of the job.json bytes the stored record was read from. */
  sourceHash: v.union(v.string(), v.null()),
  status: v.string(),
  assets: v.array(remoteAssetState),
};

export const remoteJobState = v.object(remoteJobStateFields);

/**
 * What `sync:commit` answers: the outcome, the asset rows it changed and removed, and the state
 * the deployment now holds for the job (the stored, newer one when the commit was stale), so the
 * daemon is told its commit's result instead of working it out.
 */
export const commitResult = v.object({
  outcome: commitOutcome,
  assetsChanged: v.number(),
  assetsRemoved: v.number(),
  state: v.union(v.null(), remoteJobState),
});
