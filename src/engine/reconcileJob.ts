/**
 * reconcile(jobId): observe → plan → apply, level-triggered. Whatever woke it, it reads the
 * job folder as it is now and the remote state as it is now, plans with the pure `planJob`,
 * and applies: uploads (bounded by the byte budget), then one atomic commit. Running it twice
 * changes nothing the second time. It never classifies errors itself (the engine does) and
 * never writes to job.json (markers are the engine's decision).
 */
import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { SyncError } from "../errors/SyncError.js";
import { settleProblem, trailerProblem } from "../local/checkFileReady.js";
import { MARKER_KEY } from "../local/parseFailureMarker.js";
import { hashFile } from "../local/hashFile.js";
import { openAssetStream, readAssetSync } from "../local/openAssetFile.js";
import { type TraceEvents, traceEventsOf, traceSizeProblem } from "../local/traceEvents.js";
import type { TraceInput } from "../../convex/lib/timeline.js";
import { interpretJob, type JobSource, readJobSource } from "../local/readJob.js";
import { listJobFiles } from "../local/listJobFiles.js";
import type { AssetRule, LocalFile, LocalJob } from "../local/types.js";
import type { AssetInput, CommitResult, ConvexGateway, RemoteJobState } from "../remote/ConvexGateway.js";
import { filesNeedingHash, type JobPlan, localVersionUs, planJob, type PlanOptions } from "./planJob.js";
import type { RemoteStateBatcher } from "./RemoteStateBatcher.js";
import type { UncommittedUploads } from "./UncommittedUploads.js";
import type { UploadUrlPool } from "./UploadUrlPool.js";

export type ReconcileDeps = {
  jobsDir: string;
  rules: readonly AssetRule[];
  gateway: ConvexGateway;
  states: RemoteStateBatcher;
  urls: UploadUrlPool;
  /** Blobs uploaded for commits that did not go through, reused by the next attempt. */
  uncommitted?: UncommittedUploads;
  acquireBytes: (n: number, signal?: AbortSignal) => Promise<() => void>;
  settleMs: number;
  plan: PlanOptions;
  dryRun?: boolean;
  /** Told of each file once its bytes are stored (a later failed commit does not undo it). */
  onUploaded?: (bytes: number) => void;
  now?: () => number;
  log?: Logger;
};

/** Every outcome that read the job says whether it is settled (succeeded or failed). */
export type ReconcileOutcome = (
  /** `fingerprint`: job.json's bytes and every file's stat matched, so nothing was parsed. */
  | { kind: "in-sync"; via: "fingerprint" | "plan" }
  | {
      kind: "synced";
      commit: CommitResult;
      uploaded: number;
      bytes: number;
      plan: Extract<JobPlan, { kind: "sync" }>;
      changedDuring: boolean;
      /** A file left out of this commit because it is still being written: look again then. */
      deferredMs?: number;
    }
  | { kind: "would-sync"; plan: Extract<JobPlan, { kind: "sync" }> }
  | { kind: "parked"; reason: string }
  | { kind: "remote-ahead"; remoteUpdatedAt: string }
  /** Not an error: a file is still being written or a listed asset has not appeared yet. */
  | { kind: "settling"; file: string; reason?: string; afterMs: number }
) & { settled: boolean } | { kind: "gone" };

/** The asset row a commit carries for a local file and the blob holding its bytes. */
function assetRow(file: LocalFile, sha256: string, storageId: string): AssetInput {
  return {
    role: file.role,
    filename: file.filename,
    storageId: storageId as AssetInput["storageId"],
    contentType: file.contentType,
    bytes: file.size,
    sha256,
    sourceMtimeMs: file.mtimeMs,
  };
}

function jobJsonUnchanged(local: LocalJob): boolean {
  try {
    const s = statSync(local.jobJson.path, { throwIfNoEntry: false });
    return s !== undefined && s.ino === local.jobJson.ino && s.size === local.jobJson.size && s.mtimeMs === local.jobJson.mtimeMs;
  } catch {
    return false;
  }
}

/**
 * True if job.json holds the very bytes the stored record was read from (under these rules) and
 * every file matches its row by size and mtime (and content type), one for one. Then the plan
 * would be "in sync", and the parse, validation and record hash that would show it are
 * skipped: the common case of a re-check over a large history. Anything else takes the full
 * path (a missing file, a new one, a marker: all change either the bytes or the files).
 */
function unchangedSinceCommit(source: JobSource, files: readonly LocalFile[], remote: RemoteJobState | null, plan: PlanOptions): boolean {
  if (plan.checksum || remote === null || remote.sourceHash !== source.sourceHash) return false;
  // A marked job is reported parked, never "in sync": the marker's key is looked for in the
  // bytes (a search of a few KiB, no parse).
  if (source.snap.bytes.includes(MARKER_KEY_BYTES)) return false;
  if (remote.assets.length !== files.length) return false;
  const rows = new Map(remote.assets.map((a) => [a.filename, a]));
  return files.every((f) => {
    const row = rows.get(f.filename);
    // Not the role: this listing knew no record name, and the fingerprint already covers the
    // role (it is taken over job.json's bytes and the rules, which decide every role).
    return row !== undefined && row.sha256 !== null && row.bytes === f.size && row.sourceMtimeMs === f.mtimeMs && row.contentType === f.contentType;
  });
}

/** What the deployment holds after a commit of `local` with these asset rows was applied. */
function committedState(local: LocalJob, before: RemoteJobState | null, assets: AssetInput[], removes: string[]): RemoteJobState {
  const listed = new Set(local.listed);
  const rows = new Map((before?.assets ?? []).map((a) => [a.filename, a]));
  for (const name of removes) if (!listed.has(name)) rows.delete(name);
  for (const a of assets) rows.set(a.filename, { ...a, sha256: a.sha256 ?? null, sourceMtimeMs: a.sourceMtimeMs ?? null });
  return {
    jobId: local.jobId,
    updatedAtUs: localVersionUs(local),
    recordHash: local.recordHash,
    sourceHash: local.sourceHash,
    status: local.record.status,
    assets: [...rows.values()],
  };
}

const MARKER_KEY_BYTES = Buffer.from(`"${MARKER_KEY}"`);

/**
 * The trace's events for the job's timeline, when this commit carries the trace file (new or
 * changed): read from the bytes already hashed, or from the listed file itself. A trace that
 * cannot be read as events is logged and left out; the file is mirrored all the same.
 */
function traceOfCommit(
  deps: ReconcileDeps,
  local: LocalJob,
  assets: readonly AssetInput[],
  bytesOf: ReadonlyMap<string, Buffer>,
): TraceInput | undefined {
  const committed = new Set(assets.filter((a) => a.role === "trace_json").map((a) => a.filename));
  const file = local.files.find((f) => f.role === "trace_json" && committed.has(f.filename));
  if (file === undefined) return undefined;
  let result: TraceEvents;
  const tooBig = traceSizeProblem(file.size);
  if (tooBig !== null) {
    result = { ok: false, problem: tooBig };
  } else {
    try {
      result = traceEventsOf(bytesOf.get(file.relPath) ?? readAssetSync(local.dir, file));
    } catch (e) {
      result = { ok: false, problem: `could not be read (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  if (result.ok) return result.trace;
  deps.log?.warn({ code: "TRACE_UNREADABLE", jobId: local.jobId, file: `${local.jobId}/${file.relPath}` }, `${local.jobId}/${file.relPath} ${result.problem}: its events stay out of the timeline`);
  return undefined;
}

/** The job's asset files, or undefined when the listing was refused for the job's own data. */
function listFilesUnlessRefused(dir: string, jobId: string, rules: readonly AssetRule[]): LocalFile[] | undefined {
  try {
    return listJobFiles(dir, jobId, rules);
  } catch (e) {
    if (e instanceof SyncError && e.kind === "invalid-local-data") return undefined;
    throw e;
  }
}

function isFinalStatus(status: string): boolean {
  return status === "succeeded" || status === "failed";
}

/**
 * The cheap half of a reconcile, on its own: is the job in sync with `remote` by job.json's
 * bytes and its files' stats? Synchronous and allocation-light, so a re-check of a large
 * history can run it for a whole batch without a queue entry, a promise or a log line per job.
 * Returns whether the job is settled, or null when only a full reconcile can tell (anything
 * changed, nothing remote, or the folder could not be read: the reconcile reports why).
 */
export function settledIfInSync(
  deps: Pick<ReconcileDeps, "jobsDir" | "rules" | "plan">,
  jobId: string,
  remote: RemoteJobState | null,
): boolean | null {
  if (remote === null || deps.plan.checksum) return null;
  try {
    const source = readJobSource(deps.jobsDir, jobId, deps.rules);
    const files = listJobFiles(source.dir, jobId, deps.rules);
    return unchangedSinceCommit(source, files, remote, deps.plan) ? isFinalStatus(remote.status) : null;
  } catch {
    return null;
  }
}

export async function reconcileJob(deps: ReconcileDeps, jobId: string, signal?: AbortSignal): Promise<ReconcileOutcome> {
  const now = deps.now ?? Date.now;
  let local: LocalJob;
  let remote: RemoteJobState | null;
  try {
    const source = readJobSource(deps.jobsDir, jobId, deps.rules);
    // A listing refused for the job's own data (a symlinked asset) may belong to a marked
    // job, which needs no files: the parse decides, and lists again if they are needed.
    const files = listFilesUnlessRefused(source.dir, jobId, deps.rules);
    remote = await deps.states.get(jobId);
    if (files !== undefined && unchangedSinceCommit(source, files, remote, deps.plan)) {
      return { kind: "in-sync", via: "fingerprint", settled: isFinalStatus(remote!.status) };
    }
    local = await interpretJob(source, deps.rules, files);
  } catch (e) {
    // A read-ahead state must not outlive this attempt: the next one reads fresh.
    deps.states.forget(jobId);
    // A job folder deleted by its owner: remote copies are kept (rclone copy semantics).
    if (e instanceof SyncError && e.code === "JOB_VANISHED") {
      try {
        await stat(path.join(deps.jobsDir, jobId));
      } catch {
        return { kind: "gone" };
      }
    }
    throw e;
  }
  const settled = local.settled;

  const hashes = new Map<string, string>();
  /** Bytes of small files, read once for their hash and uploaded from memory. */
  const bytesOf = new Map<string, Buffer>();
  // A file still being written holds the commit back only if the record references it (the
  // public view must never list an asset without its bytes). Any other (the trace, written
  // after the final record) is left for a later commit, so the record is not kept waiting.
  const listed = new Set(local.listed);
  const deferred = new Map<string, { reason: string; afterMs: number }>();
  for (const file of filesNeedingHash(local, remote, deps.plan)) {
    // A file too fresh is looked at again the moment it is old enough (if nothing touches it
    // meanwhile); a PNG without its trailer yet, after a settle time. The trailer is checked
    // on the bytes just hashed, from the same descriptor.
    const nowMs = now();
    const tooFresh = settleProblem(local.dir, file, { nowMs, settleMs: deps.settleMs });
    let notReady: { reason: string; afterMs: number } | null = null;
    if (tooFresh) {
      notReady = { reason: tooFresh.message, afterMs: Math.min(Math.ceil(deps.settleMs - (nowMs - file.mtimeMs)) + 1, deps.settleMs) };
    } else {
      const { sha256, tail, data } = await hashFile(local.dir, file);
      const incomplete = trailerProblem(local.dir, file, tail);
      if (incomplete) {
        notReady = { reason: incomplete.message, afterMs: Math.max(deps.settleMs, 50) };
      } else {
        hashes.set(file.relPath, sha256);
        if (data !== undefined) bytesOf.set(file.relPath, data);
      }
    }
    if (notReady === null) continue;
    if (listed.has(file.filename)) return { kind: "settling", file: file.relPath, ...notReady, settled };
    deferred.set(file.relPath, notReady);
  }
  /** The deferred file to look at again first, if any. */
  let soonest: { file: string; reason: string; afterMs: number } | null = null;
  for (const [file, wait] of deferred) if (soonest === null || wait.afterMs < soonest.afterMs) soonest = { file, ...wait };
  const settling = (): ReconcileOutcome => ({ kind: "settling", ...soonest!, settled });

  const plan = planJob(local, remote, hashes, deps.plan, new Set(deferred.keys()));
  switch (plan.kind) {
    case "in-sync":
      return soonest !== null ? settling() : { kind: "in-sync", via: "plan", settled };
    case "parked":
      // The marked record alone (status failed, component null): the public view then says
      // what job.json says. Its files stay as they are on both sides.
      if (plan.publishRecord && !deps.dryRun) {
        const commit = await deps.gateway.commit({ job: local.record, recordHash: local.recordHash, sourceHash: local.sourceHash, assets: [] });
        if (commit.outcome !== "stale") deps.states.remember(committedState(local, remote, [], []));
      }
      return { kind: "parked", reason: plan.reason, settled };
    case "remote-ahead":
      return { kind: "remote-ahead", remoteUpdatedAt: plan.remoteUpdatedAt, settled };
    case "waiting":
      return {
        kind: "settling",
        file: `outputs/${plan.filename}`,
        reason: "the component lists it, but it has not appeared yet",
        afterMs: Math.max(deps.settleMs, 250),
        settled,
      };
    case "missing-asset":
      throw new SyncError(
        "ASSET_MISSING",
        `the job is ${local.record.status} and its component lists ${plan.filename}, but no such file exists`,
        { jobId, file: `${jobId}/outputs/${plan.filename}` },
      );
    case "sync":
      break;
  }
  // Nothing a reader could see would change: a dry run reports the job in sync.
  if (deps.dryRun) {
    if (!plan.fingerprintOnly) return { kind: "would-sync", plan, settled };
    return soonest !== null ? settling() : { kind: "in-sync", via: "plan", settled };
  }

  const assets: AssetInput[] = [];
  let bytes = 0;
  await Promise.all(
    plan.uploads.map(async ({ file, sha256 }) => {
      const kept = deps.uncommitted?.find(jobId, file.relPath, sha256) ?? null;
      if (kept !== null) {
        assets.push(assetRow(file, sha256, kept));
        return;
      }
      const release = await deps.acquireBytes(file.size, signal);
      try {
        const url = await deps.urls.get();
        const storageId = await deps.gateway.upload(
          url,
          {
            open: () => openAssetStream(local.dir, file),
            ...(bytesOf.has(file.relPath) ? { data: bytesOf.get(file.relPath)! } : {}),
            bytes: file.size,
            sha256Hex: sha256,
            contentType: file.contentType,
            file: `${jobId}/${file.relPath}`,
          },
          signal,
        );
        bytes += file.size;
        deps.onUploaded?.(file.size);
        deps.uncommitted?.add(jobId, file.relPath, sha256, storageId);
        assets.push(assetRow(file, sha256, storageId));
      } finally {
        release();
      }
    }),
  );
  for (const { file, sha256, storageId } of plan.metadataUpdates) assets.push(assetRow(file, sha256, storageId));

  const trace = traceOfCommit(deps, local, assets, bytesOf);
  const commit = await deps.gateway.commit({
    job: local.record,
    recordHash: local.recordHash,
    sourceHash: local.sourceHash,
    assets,
    ...(plan.removes.length > 0 ? { removeFilenames: plan.removes } : {}),
    ...(trace === undefined ? {} : { trace }),
  });
  deps.uncommitted?.forgetJob(jobId);
  deps.log?.debug({ jobId, outcome: commit.outcome, uploads: plan.uploads.length, bytes }, "committed");
  if (commit.outcome !== "stale") deps.states.remember(committedState(local, remote, assets, plan.removes));
  // What we committed is what we read. If the pipeline rewrote job.json meanwhile, that commit
  // was still a valid (older) state; run again to pick up the newer one.
  const changedDuring = !jobJsonUnchanged(local);
  return { kind: "synced", commit, uploaded: plan.uploads.length, bytes, plan, changedDuring, settled, ...(soonest === null ? {} : { deferredMs: soonest.afterMs }) };
}
