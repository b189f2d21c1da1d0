/**
 * The daemon's surface: a handshake, batched remote state for diffing, and atomic commits (one
 * job's, or several jobs' in one call). Everything here is token checked; nothing here is meant
 * for the public.
 */
import { v } from "convex/values";
import { mutation, query } from "./_generated/server.js";
import { API_VERSION } from "./lib/apiVersion.js";
import { requireServiceToken } from "./lib/auth.js";
import { requireAtMost } from "./lib/errors.js";
import { commitFileCount, commitJob, jobCommit, jobCommitFields, MAX_COMMIT_ASSETS, MAX_COMMIT_BATCH } from "./lib/commitJob.js";
import { findJob, storedVersionUs, syncStateOf } from "./lib/jobStore.js";
import { listTimeline, timelineEvent } from "./lib/timeline.js";
import { commitResult, planJobFields, remoteJobState, serviceTokenArg, syncJobFields } from "./lib/validators.js";

export const MAX_STATE_BATCH = 128;

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
    requireAtMost("jobIds", jobIds.length, MAX_STATE_BATCH, "job ids");
    // One job after another: each read is an index lookup of one small document; interleaving
    // them buys nothing inside one transaction (and costs the local stand-in's engine dearly).
    const states = [];
    for (const jobId of jobIds) states.push(await syncStateOf(ctx, jobId));
    return states;
  },
});

/**
 * Upserts a job record and its changed asset rows in one transaction, so a reader never sees
 * a component whose assets have no URL (lib/commitJob.ts). Idempotent and monotonic.
 */
export const commit = mutation({
  args: { serviceToken: serviceTokenArg, ...jobCommitFields },
  returns: commitResult,
  handler: async (ctx, { serviceToken, ...args }) => {
    await requireServiceToken(serviceToken);
    return await commitJob(ctx, args);
  },
});

/**
 * Several jobs' commits in one mutation, each exactly as `sync:commit` makes it, in order, one
 * result per job. The mutation is one transaction: any job's refusal throws and aborts every
 * job of the batch (nothing is written), so a caller commits the jobs of a refused batch one by
 * one to learn whose refusal it was. Bounded so that a batch stays within half of Convex's
 * per-transaction limits as one commit does (see MAX_ASSETS_PER_JOB): at most
 * MAX_COMMIT_BATCH jobs and MAX_COMMIT_ASSETS asset rows saved or removed in all; the caller
 * bounds its bytes (MAX_COMMIT_BATCH_BYTES).
 */
export const commitMany = mutation({
  args: { serviceToken: serviceTokenArg, commits: v.array(jobCommit) },
  returns: v.array(commitResult),
  handler: async (ctx, { serviceToken, commits }) => {
    await requireServiceToken(serviceToken);
    requireAtMost("commits", commits.length, MAX_COMMIT_BATCH, "commits in one batch");
    const files = commits.reduce((n, c) => n + commitFileCount(c), 0);
    requireAtMost("commits", files, MAX_COMMIT_ASSETS, "assets saved or removed in one batch");
    // One job after another, as separate commits would run: each job's writes are its own.
    const results = [];
    for (const c of commits) results.push(await commitJob(ctx, c));
    return results;
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
