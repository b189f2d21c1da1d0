/**
 * The pure heart of reconciliation: given one observation of a job (observeJob.ts), what must be
 * done to make Convex match. No I/O here: every decision about a job is made in this file,
 * "is this job in sync" included (`storedCopyMatches` before any parse, then step 6 below).
 *
 * Decisions, in order:
 * 1. A job carrying a failure marker is parked until `retry` or a pipeline rewrite: only its
 *    record (which now reads "failed", as the pipeline's own failures do) is published, so the
 *    public view says what job.json says; its files are neither uploaded nor removed.
 * 2. A remote record newer than the local one (another writer, or a clock step) is left alone.
 * 3. Every filename the component lists must exist locally: if not, a running job waits for
 *    it; a final job cannot be synced (the public view would show an asset without a URL).
 *    A listed file still being written holds the commit back: wait for it.
 * 4. Each file is compared with its remote row: size + mtime (rclone's rule) unless
 *    `checksum`; a differing file is hashed, and a hash equal to the remote one only refreshes
 *    the row's metadata (no upload). A row whose role or content type no longer matches the
 *    rules is refreshed the same way.
 * 5. Remote assets whose file vanished are removed only with `prune`, never while listed.
 * 6. A job otherwise in sync whose stored job.json fingerprint differs gets a commit that
 *    stores it (`fingerprintOnly`); the record and its assets are unchanged by it.
 * 7. A file the component does not list that is still being written (e.g. the trace, which
 *    lands after the final record) is deferred: neither uploaded nor removed, its row kept as
 *    it is, so the record need not wait for it; the job is looked at again when it is ready.
 */
import { isoToMicros, microsToIso } from "../../convex/lib/time.js";
import { MARKER_KEY } from "../local/parseFailureMarker.js";
import type { JobSource } from "../local/readJob.js";
import type { LocalFile, LocalJob } from "../local/types.js";
import type { RemoteJobState } from "../remote/ConvexGateway.js";
import type { FileReadiness, Observation } from "./observeJob.js";
import { LISTED_FILE_RECHECK_MS } from "../timing.js";

export type PlanOptions = {
  checksum: boolean;
  prune: boolean;
  /** A file modified more recently than this is still being written (config `settleMs`). */
  settleMs: number;
};

export type Upload = { file: LocalFile; sha256: string; data?: Buffer };
export type MetadataUpdate = { file: LocalFile; sha256: string; storageId: string };
/** The file to look at again first, and when. */
export type Deferral = { file: string; reason: string; afterMs: number };

/** Every plan of a job that was read says whether its status is final (succeeded or failed). */
export type JobPlan =
  | { kind: "gone" }
  | ((
      | { kind: "in-sync"; via: "fingerprint" | "plan" }
      /** `publishRecord`: the deployment does not hold the marked record yet; commit it alone. */
      | { kind: "parked"; reason: string; publishRecord: boolean }
      | { kind: "remote-ahead"; remoteUpdatedAt: string }
      /** Not an error: a file is still being written, or a listed asset has not appeared yet. */
      | { kind: "wait"; file: string; reason: string; afterMs: number }
      /** The job's own data cannot be synced as it is (a final job missing a listed asset). */
      | { kind: "fail"; code: "ASSET_MISSING"; file: string; message: string }
      | {
          kind: "sync";
          recordChanged: boolean;
          /** Nothing to mirror: only the stored fingerprint of job.json's bytes is out of date. */
          fingerprintOnly: boolean;
          uploads: Upload[];
          metadataUpdates: MetadataUpdate[];
          removes: string[];
          /** A file left out of this commit because it is still being written. */
          deferred: Deferral | null;
        }
    ) & { final: boolean });

export type SyncPlan = Extract<JobPlan, { kind: "sync" }>;

type RemoteAsset = RemoteJobState["assets"][number];

function remoteByName(remote: RemoteJobState | null): Map<string, RemoteAsset> {
  return new Map((remote?.assets ?? []).map((a) => [a.filename, a]));
}

function sameStat(file: LocalFile, row: RemoteAsset): boolean {
  return row.bytes === file.size && row.sourceMtimeMs === file.mtimeMs;
}

/**
 * The per-file half of "in sync", used by every form of the rule (the fast form before a
 * parse, the hashing plan, the full plan): the row's hash stands for the file without reading
 * it when size and mtime match (rclone's rule; never with `checksum`) and the hash is known.
 */
function hashStands(file: LocalFile, row: RemoteAsset | undefined, opts: PlanOptions): boolean {
  return row !== undefined && !opts.checksum && row.sha256 !== null && sameStat(file, row);
}

export function isFinalStatus(status: string): boolean {
  return status === "succeeded" || status === "failed";
}

const MARKER_KEY_BYTES = Buffer.from(`"${MARKER_KEY}"`);

/**
 * The fast form of "in sync", before any parse: job.json holds the very bytes the stored record
 * was read from (under these rules), and every file matches its row one for one by size and
 * mtime with a known hash and the same content type. The role is not compared: this listing
 * knew no record name, and the fingerprint already covers the role (it is taken over job.json's
 * bytes and the rules, which decide every role). A marked job is never in sync (it is reported
 * parked): the marker's key is looked for in the bytes, no parse. Anything else is planned in
 * full by `planJob`, whose last step is the full form of the same rule.
 */
export function storedCopyMatches(
  source: JobSource,
  files: readonly LocalFile[],
  remote: RemoteJobState | null,
  opts: PlanOptions,
): remote is RemoteJobState {
  if (opts.checksum || remote === null || remote.sourceHash !== source.sourceHash) return false;
  if (source.snap.bytes.includes(MARKER_KEY_BYTES) || remote.assets.length !== files.length) return false;
  const rows = remoteByName(remote);
  return files.every((f) => {
    const row = rows.get(f.filename);
    return hashStands(f, row, opts) && row!.contentType === f.contentType;
  });
}

/** Files whose content must be hashed before planning: new, changed by stat, or all with `checksum`. */
export function filesNeedingHash(local: LocalJob, remote: RemoteJobState | null, opts: PlanOptions): LocalFile[] {
  const rows = remoteByName(remote);
  return local.files.filter((f) => {
    return !hashStands(f, rows.get(f.filename), opts);
  });
}

/** The local record's version in microseconds (its ISO text, validated when read). */
export function localVersionUs(local: LocalJob): number {
  return isoToMicros(local.record.updatedAtIso) ?? 0;
}

function recordChanged(local: LocalJob, remote: RemoteJobState | null): boolean {
  return remote === null || remote.recordHash !== local.recordHash || remote.updatedAtUs !== localVersionUs(local);
}

/** The not-ready file to look at again first. */
function soonest(waits: Deferral[]): Deferral | null {
  return waits.reduce<Deferral | null>((best, w) => (best === null || w.afterMs < best.afterMs ? w : best), null);
}

export function planJob(obs: Observation, opts: PlanOptions): JobPlan {
  if (obs.kind === "gone") return { kind: "gone" };
  const { local, remote } = obs;
  if (local === null) {
    // observeJob parses only when the stored copy did not match: this one did.
    return { kind: "in-sync", via: "fingerprint", final: isFinalStatus(remote!.status) };
  }
  const final = local.settled;
  const jobId = local.jobId;
  const remoteAhead = remote !== null && remote.updatedAtUs > localVersionUs(local);
  if (local.marker !== null) {
    return { kind: "parked", reason: local.marker.reason, publishRecord: !remoteAhead && recordChanged(local, remote), final };
  }
  if (remoteAhead) return { kind: "remote-ahead", remoteUpdatedAt: microsToIso(remote.updatedAtUs), final };

  const present = new Set(local.files.map((f) => f.filename));
  for (const filename of local.listed) {
    if (present.has(filename)) continue;
    if (final) {
      return {
        kind: "fail",
        code: "ASSET_MISSING",
        file: `${jobId}/outputs/${filename}`,
        message: `the job is ${local.record.status} and its component lists ${filename}, but no such file exists`,
        final,
      };
    }
    return {
      kind: "wait",
      file: `outputs/${filename}`,
      reason: "the component lists it, but it has not appeared yet",
      afterMs: Math.max(opts.settleMs, LISTED_FILE_RECHECK_MS),
      final,
    };
  }

  const listed = new Set(local.listed);
  const waits: Deferral[] = [];
  for (const file of local.files) {
    const ready = obs.readiness.get(file.relPath);
    if (ready === undefined || ready.ready) continue;
    const wait = { file: file.relPath, reason: ready.reason, afterMs: ready.afterMs };
    // The public view must never list an asset without its bytes: a listed file holds it back.
    if (listed.has(file.filename)) return { kind: "wait", ...wait, final };
    waits.push(wait);
  }
  const deferred = soonest(waits);

  const rows = remoteByName(remote);
  const uploads: Upload[] = [];
  const metadataUpdates: MetadataUpdate[] = [];
  const hashOf = (file: LocalFile): Extract<FileReadiness, { ready: true }> | undefined => {
    const r = obs.readiness.get(file.relPath);
    return r?.ready ? r : undefined;
  };
  for (const file of local.files) {
    if (waits.some((w) => w.file === file.relPath)) continue;
    const row = rows.get(file.filename);
    if (row !== undefined && hashStands(file, row, opts)) {
      // Unchanged by stat, so the row's hash stands; only a new role or content type (the
      // asset rules changed) is written, as --checksum would find it too.
      if (row.role !== file.role || row.contentType !== file.contentType) {
        metadataUpdates.push({ file, sha256: row.sha256!, storageId: row.storageId });
      }
      continue;
    }
    const hashed = hashOf(file);
    if (hashed === undefined) throw new Error(`planJob: ${jobId}/${file.relPath} needs a hash (see filesNeedingHash)`);
    if (row !== undefined && row.sha256 === hashed.sha256) {
      const metaSame = sameStat(file, row) && row.role === file.role && row.contentType === file.contentType;
      if (!metaSame) metadataUpdates.push({ file, sha256: hashed.sha256, storageId: row.storageId });
      continue;
    }
    uploads.push(hashed.data === undefined ? { file, sha256: hashed.sha256 } : { file, sha256: hashed.sha256, data: hashed.data });
  }

  const removes = opts.prune ? [...rows.keys()].filter((name) => !present.has(name) && !listed.has(name)) : [];
  const changed = recordChanged(local, remote);
  const nothingElse = uploads.length === 0 && metadataUpdates.length === 0 && removes.length === 0;
  if (!changed && nothingElse) {
    // The same record from other bytes (or a deployment that has no fingerprint yet): one
    // commit stores the fingerprint, so the next check recognises the file without parsing it.
    if (remote !== null && remote.sourceHash !== local.sourceHash) {
      return { kind: "sync", recordChanged: false, fingerprintOnly: true, uploads, metadataUpdates, removes, deferred, final };
    }
    if (deferred !== null) return { kind: "wait", ...deferred, final };
    return { kind: "in-sync", via: "plan", final };
  }
  return { kind: "sync", recordChanged: changed, fingerprintOnly: false, uploads, metadataUpdates, removes, deferred, final };
}
