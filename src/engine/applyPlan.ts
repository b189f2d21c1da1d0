/**
 * apply(plan): carries out what planJob decided, and nothing else. For a `sync` plan: the
 * uploads (each bounded by the byte budget, a blob kept from a refused commit reused), then one
 * atomic commit (sent through the CommitBatcher, which may carry it with other jobs' commits in
 * one `sync:commitMany`); for a parked job whose marked record the deployment does not hold yet,
 * that record alone. The deployment answers with the state it now holds for the job, which is
 * remembered for the next look (the client never works it out itself).
 */
import { statSync } from "node:fs";
import type { Logger } from "pino";
import type { TraceInput } from "../../convex/lib/timeline.js";
import { openAssetStream, readAssetSync } from "../local/openAssetFile.js";
import { type TraceEvents, traceEventsOf, traceSizeProblem } from "../local/traceEvents.js";
import type { LocalFile, LocalJob } from "../local/types.js";
import type { AssetInput, CommitResult, ConvexGateway } from "../remote/ConvexGateway.js";
import type { CommitBatcher } from "./CommitBatcher.js";
import type { SyncPlan } from "./planJob.js";
import type { RemoteStateBatcher } from "./RemoteStateBatcher.js";
import type { UncommittedUploads } from "./UncommittedUploads.js";
import type { UploadUrlPool } from "./UploadUrlPool.js";

export type ApplyDeps = {
  gateway: ConvexGateway;
  /** Where commits go: batched with other reconciles' commits that reach theirs together. */
  commits: Pick<CommitBatcher, "commit" | "expectCommit">;
  /**
   * Resolves once the deployment may be written to (its handshake accepted this version), and
   * rejects if it refused: every upload and commit waits for it. Reads never do.
   */
  writable?: () => Promise<void>;
  states: RemoteStateBatcher;
  urls: UploadUrlPool;
  /** Blobs uploaded for commits that did not go through, reused by the next attempt. */
  uncommitted?: UncommittedUploads;
  acquireBytes: (n: number, signal?: AbortSignal) => Promise<() => void>;
  /**
   * Gives the reconcile's queue slot back: called once the uploads are done, while the commit
   * waits for company and flies (which takes no slot's worth of work), so another job starts.
   */
  releaseSlot?: () => void;
  /** Told of each file once its bytes are stored (a later failed commit does not undo it). */
  onUploaded?: (bytes: number) => void;
  log?: Logger;
};

export type Applied = {
  commit: CommitResult;
  uploaded: number;
  bytes: number;
  /** job.json was rewritten while this ran: what was committed is an older (valid) state. */
  changedDuring: boolean;
};

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
 * The trace's events for the job's timeline, when this commit carries the trace file (new or
 * changed): read from the bytes already hashed, or from the listed file itself. A trace that
 * cannot be read as events is logged and left out; the file is mirrored all the same.
 */
function traceOfCommit(log: Logger | undefined, local: LocalJob, plan: SyncPlan, assets: readonly AssetInput[]): TraceInput | undefined {
  const committed = new Set(assets.filter((a) => a.role === "trace_json").map((a) => a.filename));
  const file = local.files.find((f) => f.role === "trace_json" && committed.has(f.filename));
  if (file === undefined) return undefined;
  let result: TraceEvents;
  const tooBig = traceSizeProblem(file.size);
  if (tooBig !== null) {
    result = { ok: false, problem: tooBig };
  } else {
    try {
      result = traceEventsOf(plan.uploads.find((u) => u.file.relPath === file.relPath)?.data ?? readAssetSync(local.dir, file));
    } catch (e) {
      result = { ok: false, problem: `could not be read (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  if (result.ok) return result.trace;
  log?.warn(
    { code: "TRACE_UNREADABLE", jobId: local.jobId, file: `${local.jobId}/${file.relPath}` },
    `${local.jobId}/${file.relPath} ${result.problem}: its events stay out of the timeline`,
  );
  return undefined;
}

/** The marked record alone (status failed, component null): the public view then says what job.json says. */
export async function publishMarkedRecord(deps: ApplyDeps, local: LocalJob): Promise<void> {
  await deps.writable?.();
  const commit = await deps.commits.commit({ job: local.record, recordHash: local.recordHash, sourceHash: local.sourceHash, assets: [] });
  deps.states.remember(local.jobId, commit.state);
}

/**
 * `coming` is the reconcile's word that its commit is coming (CommitBatcher.expectCommit), said
 * when it began; without it, it is said here, for the uploads.
 */
export async function applyPlan(
  deps: ApplyDeps,
  local: LocalJob,
  plan: SyncPlan,
  signal?: AbortSignal,
  coming: () => void = deps.commits.expectCommit(),
): Promise<Applied> {
  // Commits reaching their turn while this job uploads may wait for its commit, to share a call.
  try {
    return await uploadAndCommit(deps, local, plan, coming, signal);
  } finally {
    coming();
  }
}

async function uploadAndCommit(
  deps: ApplyDeps,
  local: LocalJob,
  plan: SyncPlan,
  coming: () => void,
  signal?: AbortSignal,
): Promise<Applied> {
  const { jobId } = local;
  const assets: AssetInput[] = [];
  let bytes = 0;
  await deps.writable?.();
  await Promise.all(
    plan.uploads.map(async ({ file, sha256, data }) => {
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
            ...(data === undefined ? {} : { data }),
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

  const trace = traceOfCommit(deps.log, local, plan, assets);
  coming();
  deps.releaseSlot?.();
  const commit = await deps.commits.commit({
    job: local.record,
    recordHash: local.recordHash,
    sourceHash: local.sourceHash,
    assets,
    ...(plan.removes.length > 0 ? { removeFilenames: plan.removes } : {}),
    ...(trace === undefined ? {} : { trace }),
  });
  deps.uncommitted?.forgetJob(jobId);
  deps.log?.debug({ jobId, outcome: commit.outcome, uploads: plan.uploads.length, bytes }, "committed");
  deps.states.remember(jobId, commit.state);
  // What we committed is what we read. If the pipeline rewrote job.json meanwhile, that commit
  // was still a valid (older) state; run again to pick up the newer one.
  return { commit, uploaded: plan.uploads.length, bytes, changedDuring: !jobJsonUnchanged(local) };
}
