/**
 * The celstate-sync tables. `jobs`, `jobAssets` and `jobEvents` are the plan's, with the
 * plan's names, types and indexes; every field this project adds is optional (rows written by
 * the plan's functions lack them) and is filled by the migrations in `migrations.ts`. The
 * README's "Data model" section lists every field and marks which come from the plan.
 *
 * Who writes and who reads each table:
 * - `jobs`: written only through token-checked mutations (`sync:commit`, `jobs:upsert`); read
 *   publicly only through `jobs:getPublic`, which projects the public fields.
 * - `jobAssets`: written only through `sync:commit` / `assets:save`; the public sees storage
 *   URLs of the filenames a component lists, never the rows themselves.
 * - `jobEvents`: the job's timeline (stage transitions, trace events, the functions' own
 *   bookkeeping), written by the same mutations; read only through `sync:timeline` (token).
 * - `jobSyncStates`: a derived copy of each job's sync state, written by the same mutations
 *   that write `jobs` and `jobAssets`; read only by `sync:getStates` (token checked).
 * - `syncMeta`: internal counters of the functions (the garbage collector's cursor).
 */
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { jobAssetFields, planJobFields, remoteJobStateFields, syncJobFields } from "./lib/validators.js";

export default defineSchema({
  jobs: defineTable({ ...planJobFields, ...syncJobFields })
    .index("by_job_id", ["jobId"])
    .index("by_status", ["status"])
    .index("by_created", ["createdAt"]),

  jobAssets: defineTable(jobAssetFields)
    .index("by_job", ["jobId", "filename"])
    .index("by_job_role", ["jobId", "role"])
    .index("by_storage", ["storageId"]),

  jobEvents: defineTable({
    // The plan's fields: `record_event(job_id, kind, payload)`, at epoch ms.
    jobId: v.string(),
    kind: v.string(),
    payload: v.any(),
    createdAt: v.number(),
    // This project's: what makes recording an event idempotent (lib/timeline.ts). Absent on
    // the plan's rows and on bookkeeping events, which are written once by their mutation.
    key: v.optional(v.string()),
  })
    .index("by_job", ["jobId"])
    .index("by_job_key", ["jobId", "key"]),

  // Each job's state as `sync:getStates` serves it (record version and hashes, asset rows),
  // rewritten by every mutation that changes the job or its assets. The daemon's re-check of
  // a large history then reads one small document per job instead of the record and a range
  // of asset rows. Internal only; derived, so it can always be rebuilt from the tables above.
  jobSyncStates: defineTable(remoteJobStateFields).index("by_job_id", ["jobId"]),

  // Bookkeeping of the functions themselves (the garbage collector's cursor). Internal only.
  syncMeta: defineTable({ key: v.string(), value: v.number() }).index("by_key", ["key"]),
});
