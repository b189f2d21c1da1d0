/**
 * Jobs: the seed's record upsert (token checked) and the one public read.
 */
import { v } from "convex/values";
import { mutation, query } from "./_generated/server.js";
import type { QueryCtx } from "./_generated/server.js";
import { requireServiceToken } from "./lib/auth.js";
import { componentFilenames, findJob, listAssets, logEvent, refreshSyncState, upsertJobRow } from "./lib/jobStore.js";
import { jobFields, jobStatus, serviceTokenArg } from "./lib/validators.js";

/** Seed surface: one record at a time. The daemon uses `sync:commit` instead. */
export const upsert = mutation({
  args: { serviceToken: serviceTokenArg, recordHash: v.optional(v.string()), ...jobFields },
  returns: v.object({
    outcome: v.union(v.literal("created"), v.literal("updated"), v.literal("unchanged"), v.literal("stale")),
  }),
  handler: async (ctx, { serviceToken, recordHash, ...record }) => {
    await requireServiceToken(serviceToken);
    const { outcome } = await upsertJobRow(ctx, record, recordHash);
    if (outcome === "created" || outcome === "updated") {
      await logEvent(ctx, record.jobId, outcome, { updatedAt: record.updatedAt });
      await refreshSyncState(ctx, record.jobId);
    }
    return { outcome };
  },
});

export const publicJob = v.object({
  jobId: v.string(),
  status: jobStatus,
  retryAfter: v.optional(v.number()),
  error: v.union(v.string(), v.null()),
  component: v.union(v.any(), v.null()),
});

export async function getPublicHandler(ctx: QueryCtx, jobId: string) {
  const job = await findJob(ctx, jobId);
  if (job === null) return null;
  let component: unknown = job.component ?? null;
  if (component !== null && typeof component === "object") {
    const wanted = componentFilenames(component);
    const rows = await listAssets(ctx, jobId);
    const byName = new Map(rows.map((r) => [r.filename, r]));
    const assets: Record<string, string | null> = {};
    for (const filename of wanted) {
      const row = byName.get(filename);
      assets[filename] = row === undefined ? null : await ctx.storage.getUrl(row.storageId);
    }
    component = { ...(component as Record<string, unknown>), assets };
  }
  return {
    jobId: job.jobId,
    status: job.status,
    ...(job.retryAfter === undefined ? {} : { retryAfter: job.retryAfter }),
    error: job.error,
    component,
  };
}

/**
 * The public view of a job: `{jobId, status, retryAfter, error, component}` with
 * `component.assets` mapping each listed filename to its storage URL. Nothing internal
 * (asset type, trace, hashes, paths, sync bookkeeping) ever leaves through here.
 */
export const getPublic = query({
  args: { jobId: v.string() },
  returns: v.union(v.null(), publicJob),
  handler: async (ctx, { jobId }) => await getPublicHandler(ctx, jobId),
});
