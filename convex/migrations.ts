/**
 * Migrations (with the `@convex-dev/migrations` component) that fill what this project keeps
 * beyond the plan on rows the plan's functions wrote. Online and resumable: the deployment
 * keeps serving `jobs:getPublic`, and the daemon keeps syncing, while they run (every reader
 * handles an unfilled row: lib/jobStore.ts `storedVersionUs`, `blobSha256Hex`).
 *
 *   npx convex run migrations:runAll --prod          # both, in order
 *   npx convex run migrations:run '{"fn": "migrations:fillAssetHashes"}' --prod
 *
 * Running them again is harmless: a filled row is left alone.
 */
import { Migrations } from "@convex-dev/migrations";
import { components, internal } from "./_generated/api.js";
import type { DataModel } from "./_generated/dataModel.js";
import { blobSha256Hex, refreshSyncState, storedVersionUs } from "./lib/jobStore.js";

export const migrations = new Migrations<DataModel>(components.migrations);

/** A generic runner: `npx convex run migrations:run '{"fn": "migrations:<name>"}'`. */
export const run = migrations.runner();

/** `jobAssets.sha256` (hex) from the blob's own `_storage.sha256`, for rows `assets:save` wrote without one. */
export const fillAssetHashes = migrations.define({
  table: "jobAssets",
  migrateOne: async (ctx, row) => {
    if (row.sha256 !== undefined) return;
    const sha256 = await blobSha256Hex(ctx, row.storageId);
    if (sha256 !== null) await ctx.db.patch(row._id, { sha256 });
  },
});

/** `jobs.updatedAtUs` from the plan's epoch-ms `updatedAt`, and the job's `jobSyncStates` row. */
export const fillJobSyncState = migrations.define({
  table: "jobs",
  migrateOne: async (ctx, job) => {
    if (job.updatedAtUs === undefined) await ctx.db.patch(job._id, { updatedAtUs: storedVersionUs(job) });
    await refreshSyncState(ctx, job.jobId);
  },
});

/** Both, assets first (a job's sync state lists its assets' hashes). */
export const runAll = migrations.runner([internal.migrations.fillAssetHashes, internal.migrations.fillJobSyncState]);
