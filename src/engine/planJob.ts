/**
 * The pure heart of reconciliation: given what is on disk and what Convex holds, what must be
 * done to make Convex match. No I/O here; the reconciler gathers the inputs (including the
 * hashes of files that need one, see `filesNeedingHash`) and applies the plan.
 *
 * Decisions, in order:
 * 1. A job carrying a failure marker is parked until `retry` or a pipeline rewrite: only its
 *    record (which now reads "failed", as the pipeline's own failures do) is published, so the
 *    public view says what job.json says; its files are neither uploaded nor removed.
 * 2. A remote record newer than the local one (another writer, or a clock step) is left alone.
 * 3. Every filename the component lists must exist locally: if not, a running job waits for
 *    it; a settled job cannot be synced (the public view would show an asset without a URL).
 * 4. Each file is compared with its remote row: size + mtime (rclone's rule) unless
 *    `checksum`; a differing file is hashed, and a hash equal to the remote one only refreshes
 *    the row's metadata (no upload). A row whose role or content type no longer matches the
 *    rules is refreshed the same way.
 * 5. Remote assets whose file vanished are removed only with `prune`, never while listed.
 * 6. A job otherwise in sync whose stored job.json fingerprint differs gets a commit that
 *    stores it (`fingerprintOnly`); the record and its assets are unchanged by it.
 * 7. A file the component does not list that is still being written (`deferred`, e.g. the
 *    trace, which lands after the final record) is left out: neither uploaded nor removed, its
 *    row kept as it is, so the record need not wait for it.
 */
import { isoToMicros, microsToIso } from "../../convex/lib/time.js";
import type { RemoteJobState } from "../remote/ConvexGateway.js";
import type { LocalFile, LocalJob } from "../local/types.js";

export type PlanOptions = { checksum: boolean; prune: boolean };

export type Upload = { file: LocalFile; sha256: string };
export type MetadataUpdate = { file: LocalFile; sha256: string; storageId: string };

export type JobPlan =
  /** `publishRecord`: the deployment does not hold the marked record yet; commit it alone. */
  | { kind: "parked"; jobId: string; reason: string; publishRecord: boolean }
  | { kind: "remote-ahead"; jobId: string; remoteUpdatedAt: string }
  | { kind: "waiting"; jobId: string; filename: string }
  | { kind: "missing-asset"; jobId: string; filename: string }
  | { kind: "in-sync"; jobId: string }
  | {
      kind: "sync";
      jobId: string;
      recordChanged: boolean;
      /** Nothing to mirror: only the stored fingerprint of job.json's bytes is out of date. */
      fingerprintOnly: boolean;
      uploads: Upload[];
      metadataUpdates: MetadataUpdate[];
      removes: string[];
    };

type RemoteAsset = RemoteJobState["assets"][number];

function remoteByName(remote: RemoteJobState | null): Map<string, RemoteAsset> {
  return new Map((remote?.assets ?? []).map((a) => [a.filename, a]));
}

function sameStat(file: LocalFile, row: RemoteAsset): boolean {
  return row.bytes === file.size && row.sourceMtimeMs === file.mtimeMs;
}

/** Files whose content must be hashed before planning: new, changed by stat, or all with `checksum`. */
export function filesNeedingHash(local: LocalJob, remote: RemoteJobState | null, opts: PlanOptions): LocalFile[] {
  const rows = remoteByName(remote);
  return local.files.filter((f) => {
    const row = rows.get(f.filename);
    return opts.checksum || row === undefined || !sameStat(f, row) || row.sha256 === null;
  });
}

/** The local record's version in microseconds (its ISO text, validated when read). */
export function localVersionUs(local: LocalJob): number {
  return isoToMicros(local.record.updatedAtIso) ?? 0;
}

function recordChanged(local: LocalJob, remote: RemoteJobState | null): boolean {
  return remote === null || remote.recordHash !== local.recordHash || remote.updatedAtUs !== localVersionUs(local);
}

export function planJob(
  local: LocalJob,
  remote: RemoteJobState | null,
  hashes: ReadonlyMap<string, string>,
  opts: PlanOptions,
  deferred: ReadonlySet<string> = new Set(),
): JobPlan {
  const jobId = local.jobId;
  const remoteAhead = remote !== null && remote.updatedAtUs > localVersionUs(local);
  if (local.marker !== null) {
    return { kind: "parked", jobId, reason: local.marker.reason, publishRecord: !remoteAhead && recordChanged(local, remote) };
  }
  if (remoteAhead) return { kind: "remote-ahead", jobId, remoteUpdatedAt: microsToIso(remote.updatedAtUs) };

  const present = new Set(local.files.map((f) => f.filename));
  for (const filename of local.listed) {
    if (!present.has(filename)) {
      return local.settled ? { kind: "missing-asset", jobId, filename } : { kind: "waiting", jobId, filename };
    }
  }

  const rows = remoteByName(remote);
  const uploads: Upload[] = [];
  const metadataUpdates: MetadataUpdate[] = [];
  for (const file of local.files) {
    if (deferred.has(file.relPath)) continue;
    const row = rows.get(file.filename);
    const sha = hashes.get(file.relPath);
    if (row !== undefined && !opts.checksum && sameStat(file, row) && row.sha256 !== null) {
      // Unchanged by stat, so the row's hash stands; only a new role or content type (the
      // asset rules changed) is written, as --checksum would find it too.
      if (row.role !== file.role || row.contentType !== file.contentType) {
        metadataUpdates.push({ file, sha256: row.sha256, storageId: row.storageId });
      }
      continue;
    }
    if (sha === undefined) {
      throw new Error(`planJob: ${jobId}/${file.relPath} needs a hash (see filesNeedingHash)`);
    }
    if (row !== undefined && row.sha256 === sha) {
      const metaSame = sameStat(file, row) && row.role === file.role && row.contentType === file.contentType;
      if (!metaSame) metadataUpdates.push({ file, sha256: sha, storageId: row.storageId });
      continue;
    }
    uploads.push({ file, sha256: sha });
  }

  const listed = new Set(local.listed);
  const removes = opts.prune
    ? [...rows.keys()].filter((name) => !present.has(name) && !listed.has(name))
    : [];

  const changed = recordChanged(local, remote);
  const nothingElse = uploads.length === 0 && metadataUpdates.length === 0 && removes.length === 0;
  if (!changed && nothingElse) {
    // The same record from other bytes (or a deployment that has no fingerprint yet): one
    // commit stores the fingerprint, so the next check recognises the file without parsing it.
    if (remote !== null && remote.sourceHash !== local.sourceHash) {
      return { kind: "sync", jobId, recordChanged: false, fingerprintOnly: true, uploads, metadataUpdates, removes };
    }
    return { kind: "in-sync", jobId };
  }
  return { kind: "sync", jobId, recordChanged: changed, fingerprintOnly: false, uploads, metadataUpdates, removes };
}
