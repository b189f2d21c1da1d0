/**
 * Validators shared by the schema and the functions: the single description of a job
 * record as Convex stores it (the camelCase mirror of JobRecord.v1).
 */
import { v } from "convex/values";

/**
 * The service token argument of every token-checked function. Optional on purpose: a call
 * without it must reach `requireServiceToken` and fail with the stable `UNAUTHORIZED` code,
 * not with an argument validation error that carries no `ConvexError.data` and would be
 * classified as a permanent refusal of the job's data instead of a fatal auth problem.
 */
export const serviceTokenArg = v.optional(v.string());

export const jobStatus = v.union(
  v.literal("queued"),
  v.literal("running"),
  v.literal("succeeded"),
  v.literal("failed"),
);

export const assetRole = v.union(
  v.literal("output_png"),
  v.literal("debug_png"),
  v.literal("mask_png"),
  v.literal("trace_json"),
);

/** JobRecord.v1 fields, camelCase, `type` stored as `internalAssetType`. */
export const jobFields = {
  jobId: v.string(),
  status: jobStatus,
  internalAssetType: v.string(),
  layoutIntent: v.optional(v.union(v.string(), v.null())),
  prompt: v.string(),
  styleContext: v.optional(v.union(v.string(), v.null())),
  name: v.optional(v.union(v.string(), v.null())),
  createdAt: v.string(),
  updatedAt: v.string(),
  progressStage: v.optional(v.union(v.string(), v.null())),
  /**
   * The component as an object, as the plan's clients write it. The daemon never does: its
   * filenames may be any unicode, which field names cannot hold; it sends `componentJson`.
   */
  component: v.optional(v.union(v.any(), v.null())),
  /** The component's JSON text exactly as job.json holds it (see lib/componentText.ts). */
  componentJson: v.optional(v.union(v.string(), v.null())),
  error: v.union(v.string(), v.null()),
  renderSizeHint: v.optional(v.number()),
  retryAfter: v.optional(v.number()),
  telemetry: v.optional(v.any()),
};

export const jobRecord = v.object(jobFields);

/**
 * An asset row as the table stores it. `sha256` (hex) and `sourceMtimeMs` are what diffing
 * needs (size is `bytes`); optional only because the seed's `assets:save` did not send them.
 */
export const jobAssetFields = {
  jobId: v.string(),
  role: assetRole,
  filename: v.string(),
  storageId: v.id("_storage"),
  contentType: v.string(),
  bytes: v.number(),
  sha256: v.optional(v.string()),
  sourceMtimeMs: v.optional(v.number()),
};

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
  role: assetRole,
  filename: v.string(),
  storageId: v.id("_storage"),
  contentType: v.string(),
  bytes: v.number(),
  sha256: v.union(v.string(), v.null()),
  sourceMtimeMs: v.union(v.number(), v.null()),
});

export const remoteJobStateFields = {
  jobId: v.string(),
  updatedAt: v.string(),
  updatedAtUs: v.number(),
  recordHash: v.union(v.string(), v.null()),
  /** The daemon's fingerprint of the job.json bytes the stored record was read from. */
  sourceHash: v.union(v.string(), v.null()),
  status: jobStatus,
  assets: v.array(remoteAssetState),
};

export const remoteJobState = v.object(remoteJobStateFields);
