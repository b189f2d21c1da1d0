/**
 * Assets: upload URLs and the seed's one-row save. All token checked.
 */
import { v } from "convex/values";
import { mutation } from "./_generated/server.js";
import { requireServiceToken } from "./lib/auth.js";
import { fail } from "./lib/errors.js";
import { refreshSyncState, saveAssetRow } from "./lib/jobStore.js";
import { recordBookkeeping } from "./lib/timeline.js";
import { planSaveFields, serviceTokenArg } from "./lib/validators.js";

/** Upload URLs live an hour and are not single-use; the daemon asks for them in batches. */
export const MAX_UPLOAD_URLS = 100;

export const generateUploadUrl = mutation({
  args: { serviceToken: serviceTokenArg },
  returns: v.string(),
  handler: async (ctx, { serviceToken }) => {
    await requireServiceToken(serviceToken);
    return await ctx.storage.generateUploadUrl();
  },
});

export const generateUploadUrls = mutation({
  args: { serviceToken: serviceTokenArg, count: v.number() },
  returns: v.array(v.string()),
  handler: async (ctx, { serviceToken, count }) => {
    await requireServiceToken(serviceToken);
    if (!Number.isInteger(count) || count < 1 || count > MAX_UPLOAD_URLS) {
      fail({
        code: "INVALID_ARGUMENT",
        field: "count",
        message: `Expected \`count\` to be an integer from 1 to ${MAX_UPLOAD_URLS}, got \`${count}\``,
      });
    }
    const urls: string[] = [];
    for (let i = 0; i < count; i++) urls.push(await ctx.storage.generateUploadUrl());
    return urls;
  },
});

/**
 * The plan's one-row save, `{jobId, role, filename, storageId, contentType, bytes}`: points
 * (jobId, filename) at an uploaded blob, replacing (and deleting) any previous one.
 */
export const save = mutation({
  args: { serviceToken: serviceTokenArg, ...planSaveFields },
  returns: v.union(v.literal("asset_saved"), v.literal("asset_replaced"), v.literal("unchanged")),
  handler: async (ctx, { serviceToken, jobId, ...asset }) => {
    await requireServiceToken(serviceToken);
    const outcome = await saveAssetRow(ctx, jobId, asset);
    if (outcome !== "unchanged") {
      await recordBookkeeping(ctx, jobId, outcome, { filename: asset.filename });
      await refreshSyncState(ctx, jobId);
    }
    return outcome;
  },
});
