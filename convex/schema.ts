/**
 * The celstate-sync tables.
 *
 * Who writes and who reads each table:
 * - `jobs`: written only by the sync daemon (through `sync:commit` / `jobs:upsert`, token
 *   checked); read publicly only through `jobs:getPublic`, which projects the public fields.
 * - `jobAssets`: written only by the daemon (`sync:commit` / `assets:save`); the public sees
 *   storage URLs of the filenames a component lists, never the rows themselves.
 * - `jobEvents`: append-only audit trail written by the mutations themselves; read by operators.
 * - `jobSyncStates`: a derived copy of each job's sync state, written by the same mutations
 *   that write `jobs` and `jobAssets`; read only by `sync:getStates` (token checked).
 * - `syncMeta`: internal counters of the functions (the garbage collector's cursor).
 */
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { jobAssetFields, jobFields, remoteJobStateFields } from "./lib/validators.js";

export default defineSchema({
  jobs: defineTable({
    ...jobFields,
    // Monotonic writes: `updatedAt` parsed to microseconds since the epoch. A write whose
    // `updatedAtUs` is lower than the stored one is ignored.
    updatedAtUs: v.number(),
    // sha256 (hex) of the canonical record the daemon sent: an unchanged record is
    // recognised without comparing fields.
    recordHash: v.optional(v.string()),
    // The daemon's fingerprint of the job.json bytes that record was read from (sha256 hex,
    // salted with its reader's version): an unchanged file is recognised without parsing it.
    sourceHash: v.optional(v.string()),
  })
    .index("by_job_id", ["jobId"])
    .index("by_status", ["status"])
    .index("by_created", ["createdAt"]),

  jobAssets: defineTable(jobAssetFields)
    .index("by_job", ["jobId", "filename"])
    .index("by_job_role", ["jobId", "role"])
    .index("by_storage", ["storageId"]),

  jobEvents: defineTable({
    jobId: v.string(),
    kind: v.union(
      v.literal("created"),
      v.literal("updated"),
      v.literal("stale_ignored"),
      v.literal("asset_saved"),
      v.literal("asset_replaced"),
      v.literal("asset_removed"),
    ),
    at: v.number(),
    updatedAt: v.optional(v.string()),
    detail: v.optional(v.string()),
  }).index("by_job", ["jobId"]),

  // Each job's state as `sync:getStates` serves it (record version and hashes, asset rows),
  // rewritten by every mutation that changes the job or its assets. The daemon's re-check of
  // a large history then reads one small document per job instead of the record and a range
  // of asset rows. Internal only; derived, so it can always be rebuilt from the tables above.
  jobSyncStates: defineTable(remoteJobStateFields).index("by_job_id", ["jobId"]),

  // Bookkeeping of the functions themselves (the garbage collector's cursor). Internal only.
  syncMeta: defineTable({ key: v.string(), value: v.number() }).index("by_key", ["key"]),
});
