/**
 * observe(jobId): everything the planner needs to know about one job, read as it is now, and
 * nothing decided. job.json's bytes and their fingerprint, the asset files' stats, the remote
 * state, and, for the files the planner needs to compare by content, whether each is ready and
 * its hash. The one shortcut: when the stored copy already matches job.json's bytes and every
 * file's stat (`storedCopyMatches`, the planner's rule), the record is not parsed and nothing
 * is hashed, which is what makes a re-check of a large history cheap.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { isCompletePngAsListed, settleProblem, trailerProblem } from "../local/checkFileReady.js";
import { hashFile } from "../local/hashFile.js";
import { listJobFiles } from "../local/listJobFiles.js";
import { interpretJob, type JobSource, readJobSource } from "../local/readJob.js";
import type { AssetRule, LocalFile, LocalJob } from "../local/types.js";
import type { RemoteJobState } from "../remote/ConvexGateway.js";
import { filesNeedingHash, type PlanOptions, storedCopyMatches } from "./planJob.js";
import type { RemoteStateBatcher } from "./RemoteStateBatcher.js";
import { TRAILER_RECHECK_MS } from "../timing.js";

/** A file compared by content: its hash (and its bytes, when small), or why it must wait. */
export type FileReadiness = { ready: true; sha256: string; data?: Buffer } | { ready: false; reason: string; afterMs: number };

export type Observation =
  /** The job folder is gone (its owner deleted it). */
  | { kind: "gone"; jobId: string }
  | {
      kind: "job";
      jobId: string;
      source: JobSource;
      /** The asset files, or undefined when their listing was refused for the job's own data. */
      files: LocalFile[] | undefined;
      remote: RemoteJobState | null;
      /** The parsed job; null when the stored copy matched and nothing needed parsing. */
      local: LocalJob | null;
      /** By relPath, for every file the planner compares by content (`filesNeedingHash`). */
      readiness: ReadonlyMap<string, FileReadiness>;
    };

export type ObserveDeps = {
  jobsDir: string;
  rules: readonly AssetRule[];
  states: RemoteStateBatcher;
  settleMs: number;
  plan: PlanOptions;
  now?: () => number;
};

/** The job's asset files, or undefined when the listing was refused for the job's own data. */
function listFilesUnlessRefused(dir: string, jobId: string, rules: readonly AssetRule[]): LocalFile[] | undefined {
  try {
    return listJobFiles(dir, jobId, rules);
  } catch (e) {
    if (e instanceof SyncError && e.kind === "invalid-local-data") return undefined;
    throw e;
  }
}

/**
 * A file too fresh is looked at again the moment it is old enough (if nothing touches it
 * meanwhile), unless it is a PNG already whole as listed (checkFileReady.ts); a PNG without its
 * trailer yet, after a settle time. The trailer is checked on the bytes just hashed, from the
 * same descriptor.
 */
async function readinessOf(local: LocalJob, file: LocalFile, settleMs: number, nowMs: number): Promise<FileReadiness> {
  const tooFresh = settleProblem(local.dir, file, { nowMs, settleMs });
  if (tooFresh && !isCompletePngAsListed(local.dir, file)) {
    return { ready: false, reason: tooFresh.message, afterMs: Math.min(Math.ceil(settleMs - (nowMs - file.mtimeMs)) + 1, settleMs) };
  }
  const { sha256, tail, data } = await hashFile(local.dir, file);
  const incomplete = trailerProblem(local.dir, file, tail);
  if (incomplete) return { ready: false, reason: incomplete.message, afterMs: Math.max(settleMs, TRAILER_RECHECK_MS) };
  return data === undefined ? { ready: true, sha256 } : { ready: true, sha256, data };
}

/** The cheap half on its own, synchronous, for a batch whose remote states are at hand (triage). */
export function observeStoredCopy(
  deps: Pick<ObserveDeps, "jobsDir" | "rules" | "plan">,
  jobId: string,
  remote: RemoteJobState | null,
): { source: JobSource; files: LocalFile[] } | null {
  if (remote === null || deps.plan.checksum) return null;
  try {
    const source = readJobSource(deps.jobsDir, jobId, deps.rules);
    return { source, files: listJobFiles(source.dir, jobId, deps.rules) };
  } catch {
    return null;
  }
}

export async function observeJob(deps: ObserveDeps, jobId: string): Promise<Observation> {
  const now = deps.now ?? Date.now;
  let source: JobSource;
  let files: LocalFile[] | undefined;
  let remote: RemoteJobState | null;
  let local: LocalJob;
  try {
    source = readJobSource(deps.jobsDir, jobId, deps.rules);
    // A listing refused for the job's own data (a symlinked asset) may belong to a marked
    // job, which needs no files: the parse decides, and lists again if they are needed.
    files = listFilesUnlessRefused(source.dir, jobId, deps.rules);
    remote = await deps.states.get(jobId);
    if (files !== undefined && storedCopyMatches(source, files, remote, deps.plan)) {
      return { kind: "job", jobId, source, files, remote, local: null, readiness: new Map() };
    }
    local = await interpretJob(source, deps.rules, files);
  } catch (e) {
    // A read-ahead state must not outlive this attempt: the next one reads fresh.
    deps.states.forget(jobId);
    // A job folder deleted by its owner: remote copies are kept (rclone copy semantics).
    if (e instanceof SyncError && e.code === "JOB_VANISHED") {
      const folder = await stat(path.join(deps.jobsDir, jobId)).catch(() => null);
      if (folder === null) return { kind: "gone", jobId };
    }
    throw e;
  }
  const readiness = new Map<string, FileReadiness>();
  const listed = new Set(local.listed);
  for (const file of filesNeedingHash(local, remote, deps.plan)) {
    const ready = await readinessOf(local, file, deps.settleMs, now());
    readiness.set(file.relPath, ready);
    // A listed file not ready yet holds the whole commit back: the rest need not be read now.
    if (!ready.ready && listed.has(file.filename)) break;
  }
  return { kind: "job", jobId, source, files: local.files, remote, local, readiness };
}
