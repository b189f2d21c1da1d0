/**
 * Garbage collection of blobs that no asset row references: uploads whose commit never came
 * (a crash between upload and commit). Replaced and removed blobs are deleted by the commit
 * itself, so a blob that is referenced once it is older than the grace period stays referenced
 * until a commit deletes it; the collector therefore walks `_storage` once, in creation order,
 * behind a cursor, and never rescans what it has passed.
 *
 * Runs hourly from `crons.ts`; a run that finds more schedules its continuation at once, so one
 * cron run walks everything older than the grace period, whatever the upload rate (the daemon's
 * live rate, ~250,000 files an hour, takes some 250 runs). Each run stays within half of every
 * per-transaction limit: SCAN_LIMIT blobs cost SCAN_LIMIT + 2 index ranges (of 4,096), as many
 * documents read (of 32,000) and at most as many storage deletes. A commit that replaces a blob
 * the run has read conflicts with it; Convex retries the run, which costs at most one batch.
 * Operators (and tests) can run one batch on demand with the token (`gc:collectNow`).
 */
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, mutation } from "./_generated/server.js";
import type { MutationCtx } from "./_generated/server.js";
import { requireServiceToken } from "./lib/auth.js";
import { deleteBlobIfUnreferenced } from "./lib/jobStore.js";
import { serviceTokenArg } from "./lib/validators.js";

/** Uploads younger than this may still be waiting for their commit. */
export const DEFAULT_GRACE_MS = 6 * 60 * 60 * 1000;
/** Blobs examined per run: one index range each (its asset-row lookup), under half of the 4,096 allowed. */
export const SCAN_LIMIT = 1000;
const CURSOR_KEY = "gc.storageCursor";

const gcResult = v.object({ scanned: v.number(), deleted: v.number(), more: v.boolean() });

export async function collectOrphans(ctx: MutationCtx, graceMs: number, now = Date.now()) {
  const cutoff = now - graceMs;
  const cursorRow = await ctx.db
    .query("syncMeta")
    .withIndex("by_key", (q) => q.eq("key", CURSOR_KEY))
    .unique();
  const after = cursorRow?.value ?? 0;
  const candidates = await ctx.db.system
    .query("_storage")
    .withIndex("by_creation_time", (q) => q.gt("_creationTime", after).lt("_creationTime", cutoff))
    .order("asc")
    .take(SCAN_LIMIT);
  let deleted = 0;
  for (const blob of candidates) {
    // Just read from `_storage` in this transaction: it exists, no second lookup needed.
    if (await deleteBlobIfUnreferenced(ctx, blob._id, { known: true })) deleted++;
  }
  const last = candidates.at(-1);
  if (last !== undefined) {
    if (cursorRow === null) await ctx.db.insert("syncMeta", { key: CURSOR_KEY, value: last._creationTime });
    else await ctx.db.patch(cursorRow._id, { value: last._creationTime });
  }
  return { scanned: candidates.length, deleted, more: candidates.length === SCAN_LIMIT };
}

export const collect = internalMutation({
  args: { graceMs: v.optional(v.number()) },
  returns: gcResult,
  handler: async (ctx, { graceMs }) => {
    const result = await collectOrphans(ctx, graceMs ?? DEFAULT_GRACE_MS);
    if (result.more) await ctx.scheduler.runAfter(0, internal.gc.collect, graceMs === undefined ? {} : { graceMs });
    return result;
  },
});

export const collectNow = mutation({
  args: { serviceToken: serviceTokenArg, graceMs: v.optional(v.number()) },
  returns: gcResult,
  handler: async (ctx, { serviceToken, graceMs }) => {
    await requireServiceToken(serviceToken);
    return await collectOrphans(ctx, graceMs ?? DEFAULT_GRACE_MS);
  },
});
