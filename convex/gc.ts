/**
 * Garbage collection of blobs that no asset row references: uploads whose commit never came
 * (a crash between upload and commit). Replaced and removed blobs are deleted by the commit
 * itself, so a blob that is referenced once it is older than the grace period stays referenced
 * until a commit deletes it; the collector therefore walks `_storage` once, in creation order,
 * behind a cursor, and never rescans what it has passed. Runs hourly from `crons.ts`; operators
 * (and tests) can run it on demand with the token.
 */
import { v } from "convex/values";
import { internalMutation, mutation } from "./_generated/server.js";
import type { MutationCtx } from "./_generated/server.js";
import { requireServiceToken } from "./lib/auth.js";
import { deleteBlobIfUnreferenced } from "./lib/jobStore.js";
import { serviceTokenArg } from "./lib/validators.js";

/** Uploads younger than this may still be waiting for their commit. */
export const DEFAULT_GRACE_MS = 6 * 60 * 60 * 1000;
/** Blobs examined per run: stays far below the per-transaction read limits. */
export const SCAN_LIMIT = 2000;
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
    if (await deleteBlobIfUnreferenced(ctx, blob._id)) deleted++;
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
  handler: async (ctx, { graceMs }) => await collectOrphans(ctx, graceMs ?? DEFAULT_GRACE_MS),
});

export const collectNow = mutation({
  args: { serviceToken: serviceTokenArg, graceMs: v.optional(v.number()) },
  returns: gcResult,
  handler: async (ctx, { serviceToken, graceMs }) => {
    await requireServiceToken(serviceToken);
    return await collectOrphans(ctx, graceMs ?? DEFAULT_GRACE_MS);
  },
});
