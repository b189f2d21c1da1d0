/**
 * Jobs: the seed's record upsert (token checked) and the one public read.
 */
import { v } from "convex/values";
import { mutation, query } from "./_generated/server.js";
import type { QueryCtx } from "./_generated/server.js";
import { requireServiceToken } from "./lib/auth.js";
import { componentFilenames, findJob, listAssets, refreshSyncState, upsertPlanJobRow } from "./lib/jobStore.js";
import { withAssetUrls } from "./lib/componentText.js";
import { publicError } from "./lib/publicError.js";
import { stringifyPythonJson } from "./lib/pythonJsonText.js";
import { recordBookkeeping } from "./lib/timeline.js";
import { commitOutcome, planUpsertFields, serviceTokenArg } from "./lib/validators.js";

/**
 * The plan's record upsert, one record at a time, in the plan's shape: epoch-ms `createdAt` /
 * `updatedAt` (filled with the server's clock when absent), optional values absent or `null`,
 * `component` as an object. Monotonic at millisecond precision (lib/jobStore.ts). The daemon
 * uses `sync:commit` instead.
 */
export const upsert = mutation({
  args: { serviceToken: serviceTokenArg, ...planUpsertFields },
  returns: v.object({ outcome: commitOutcome }),
  handler: async (ctx, { serviceToken, ...record }) => {
    await requireServiceToken(serviceToken);
    const { outcome } = await upsertPlanJobRow(ctx, record);
    if (outcome === "created" || outcome === "updated") {
      await recordBookkeeping(ctx, record.jobId, outcome, { updatedAt: record.updatedAt ?? null });
      await refreshSyncState(ctx, record.jobId);
    }
    return { outcome };
  },
});

export const publicJob = v.object({
  jobId: v.string(),
  status: v.string(),
  retryAfter: v.optional(v.number()),
  error: v.union(v.string(), v.null()),
  /**
   * The component's JSON text, exactly as job.json holds it (key order, Python's NaN and
   * Infinity literals), with each listed asset's placeholder replaced by its storage URL. Text,
   * because a Convex value can carry neither its filenames as field names nor its key order.
   */
  component: v.union(v.string(), v.null()),
});

/** The text served for a plan-style row, whose component is a stored object. */
function componentTextOf(job: { component?: unknown; componentJson?: string | null }): string | null {
  if (typeof job.componentJson === "string") return job.componentJson;
  if (job.component === undefined || job.component === null) return null;
  return stringifyPythonJson(job.component);
}

export async function getPublicHandler(ctx: QueryCtx, jobId: string) {
  const job = await findJob(ctx, jobId);
  if (job === null) return null;
  const text = componentTextOf(job);
  let component: string | null = null;
  if (text !== null) {
    const rows = await listAssets(ctx, jobId);
    const byName = new Map(rows.map((r) => [r.filename, r]));
    const urls = new Map<string, string | null>();
    for (const filename of componentFilenames(job)) {
      const row = byName.get(filename);
      urls.set(filename, row === undefined ? null : await ctx.storage.getUrl(row.storageId));
    }
    component = withAssetUrls(text, (f) => urls.get(f) ?? null);
  }
  return {
    jobId: job.jobId,
    status: job.status,
    // A plan-style writer may store `null` for an absent value: read back as absent, as job.json has it.
    ...(typeof job.retryAfter === "number" ? { retryAfter: job.retryAfter } : {}),
    error: publicError(job.error ?? null, job.jobId),
    component,
  };
}

/**
 * The public view of a job: `{jobId, status, retryAfter, error, component}`, the component as
 * JSON text with `component.assets` mapping each listed filename to its storage URL, and the
 * error with server paths made relative (lib/publicError.ts). Nothing internal
 * (asset type, trace, hashes, paths, sync bookkeeping) ever leaves through here.
 */
export const getPublic = query({
  args: { jobId: v.string() },
  returns: v.union(v.null(), publicJob),
  handler: async (ctx, { jobId }) => await getPublicHandler(ctx, jobId),
});
