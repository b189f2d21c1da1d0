/**
 * The daemon's surface: a handshake, batched remote state for diffing, and one atomic commit
 * per job. Everything here is token checked; nothing here is meant for the public.
 */
import { v } from "convex/values";
import { mutation, query } from "./_generated/server.js";
import { API_VERSION } from "./lib/apiVersion.js";
import { requireServiceToken } from "./lib/auth.js";
import { fail } from "./lib/errors.js";
import {
  componentFilenames,
  deleteBlobIfUnreferenced,
  findAsset,
  findJob,
  MAX_ASSETS_PER_JOB,
  refreshSyncState,
  removeAssetRow,
  saveAssetRow,
  storedVersionUs,
  syncStateOf,
  upsertJobRow,
} from "./lib/jobStore.js";
import { listTimeline, recordBookkeeping, recordTrace, timelineEvent, traceInput } from "./lib/timeline.js";
import { assetInput, commitResult, jobRecord, planJobFields, remoteJobState, serviceTokenArg, syncJobFields } from "./lib/validators.js";

export const MAX_STATE_BATCH = 128;
/** A commit carries at most every asset a job may have (see MAX_ASSETS_PER_JOB). */
export const MAX_COMMIT_ASSETS = MAX_ASSETS_PER_JOB;

/**
 * `clientTimeMs` is the caller's clock, different on every call: Convex caches a query's result
 * per arguments (for up to ~17 s when it reads `Date.now()`), so without it `serverTimeMs` could
 * be stale and the daemon would see a clock skew that is not there.
 */
export const handshake = query({
  args: { serviceToken: serviceTokenArg, clientTimeMs: v.optional(v.number()) },
  returns: v.object({ apiVersion: v.number(), serverTimeMs: v.number() }),
  handler: async (_ctx, { serviceToken }) => {
    await requireServiceToken(serviceToken);
    return { apiVersion: API_VERSION, serverTimeMs: Date.now() };
  },
});

export const getStates = query({
  args: { serviceToken: serviceTokenArg, jobIds: v.array(v.string()) },
  returns: v.array(v.union(v.null(), remoteJobState)),
  handler: async (ctx, { serviceToken, jobIds }) => {
    await requireServiceToken(serviceToken);
    if (jobIds.length > MAX_STATE_BATCH) {
      fail({
        code: "INVALID_ARGUMENT",
        field: "jobIds",
        message: `Expected at most ${MAX_STATE_BATCH} job ids, got ${jobIds.length}`,
      });
    }
    // One job after another: each read is an index lookup of one small document; interleaving
    // them buys nothing inside one transaction (and costs the local stand-in's engine dearly).
    const states = [];
    for (const jobId of jobIds) states.push(await syncStateOf(ctx, jobId));
    return states;
  },
});

/**
 * Upserts a job record and its changed asset rows in one transaction, so a reader never sees
 * a component whose assets have no URL. Idempotent: replaying the same commit changes nothing.
 * A commit older than the stored record is ignored whole (its fresh uploads are deleted).
 */
export const commit = mutation({
  args: {
    serviceToken: serviceTokenArg,
    job: jobRecord,
    recordHash: v.string(),
    sourceHash: v.optional(v.string()),
    assets: v.array(assetInput),
    removeFilenames: v.optional(v.array(v.string())),
    /** The job's trace events for its timeline (bounded by the daemon; lib/timeline.ts). */
    trace: v.optional(traceInput),
  },
  returns: commitResult,
  handler: async (ctx, { serviceToken, job, recordHash, sourceHash, assets, removeFilenames = [], trace }) => {
    await requireServiceToken(serviceToken);
    if (assets.length > MAX_COMMIT_ASSETS) {
      fail({
        code: "INVALID_ARGUMENT",
        field: "assets",
        // No jobId: this bound is ours, not a fault of the job's data (the daemon must not mark it).
        message: `job ${job.jobId}: expected at most ${MAX_COMMIT_ASSETS} assets in one commit, got ${assets.length}`,
      });
    }
    const { outcome } = await upsertJobRow(ctx, job, recordHash, sourceHash);
    if (outcome === "stale") {
      for (const a of assets) {
        const row = await findAsset(ctx, job.jobId, a.filename);
        if (row?.storageId !== a.storageId) await deleteBlobIfUnreferenced(ctx, a.storageId);
      }
      await recordBookkeeping(ctx, job.jobId, "stale_ignored", { updatedAt: job.updatedAtIso });
      return { outcome, assetsChanged: 0, assetsRemoved: 0, state: await syncStateOf(ctx, job.jobId) };
    }
    let assetsChanged = 0;
    for (const a of assets) {
      const result = await saveAssetRow(ctx, job.jobId, a);
      if (result !== "unchanged") {
        assetsChanged++;
        await recordBookkeeping(ctx, job.jobId, result, { filename: a.filename });
      }
    }
    let assetsRemoved = 0;
    const listed = new Set(componentFilenames(job));
    for (const filename of removeFilenames) {
      // Never remove what the record being committed still lists.
      if (listed.has(filename)) continue;
      if (await removeAssetRow(ctx, job.jobId, filename)) {
        assetsRemoved++;
        await recordBookkeeping(ctx, job.jobId, "asset_removed", { filename });
      }
    }
    for (const filename of listed) {
      if ((await findAsset(ctx, job.jobId, filename)) === null) {
        // Throwing rolls the whole commit back: the previous public state stays intact.
        fail({
          code: "MISSING_ASSET",
          jobId: job.jobId,
          filename,
          message: `job ${job.jobId}: the component lists ${filename} but no asset was committed for it`,
        });
      }
    }
    if (outcome !== "unchanged") await recordBookkeeping(ctx, job.jobId, outcome, { updatedAt: job.updatedAtIso });
    if (trace !== undefined) await recordTrace(ctx, job.jobId, trace);
    const state = await refreshSyncState(ctx, job.jobId);
    return { outcome, assetsChanged, assetsRemoved, state };
  },
});

/** The job's timeline (lib/timeline.ts), oldest first. Internal: token checked, never public. */
export const timeline = query({
  args: { serviceToken: serviceTokenArg, jobId: v.string() },
  returns: v.array(timelineEvent),
  handler: async (ctx, { serviceToken, jobId }) => {
    await requireServiceToken(serviceToken);
    return await listTimeline(ctx, jobId);
  },
});

/**
 * The job's row as the deployment stores it (the plan's fields and this project's, without
 * the component, which `jobs:getPublic` serves), for `status --job`. Token checked.
 */
export const getRecord = query({
  args: { serviceToken: serviceTokenArg, jobId: v.string() },
  returns: v.union(v.null(), v.object({ ...planJobFields, ...syncJobFields, updatedAtUs: v.number() })),
  handler: async (ctx, { serviceToken, jobId }) => {
    await requireServiceToken(serviceToken);
    const job = await findJob(ctx, jobId);
    if (job === null) return null;
    const { _id, _creationTime, component: _c, componentJson: _j, ...fields } = job;
    return { ...fields, updatedAtUs: storedVersionUs(job) };
  },
});
