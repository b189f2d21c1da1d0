/**
 * Reads one job folder into a `LocalJob`: job.json (once, from one descriptor), its record
 * validated and mapped to the Convex shape, the failure marker if any, and the asset files
 * the rules select. Read-only; every failure is a SyncError naming the job and the file.
 */
import { createHash } from "node:crypto";
import { lstatSync, type Stats } from "node:fs";
import path from "node:path";
import { componentFilenames, type JobRecordInput } from "../../convex/lib/jobStore.js";
import { lastMember, splitTopLevel } from "../../convex/lib/topLevelMembers.js";
import { findDocumentProblem } from "../../convex/lib/limits.js";
import { isoToMicros } from "../../convex/lib/time.js";
import { SyncError } from "../errors/SyncError.js";
import { assertJobId, isPlainFileName } from "./assertJobId.js";
import { fsError } from "./fsError.js";
import { checkJobRecord, jobJsonFieldName, recordHash as hashRecord, toConvexRecord } from "./jobRecord.js";
import { compileAssetRules } from "./compileAssetRules.js";
import { DEFAULT_ASSET_RULES } from "./defaultAssetRules.js";
import { assignRoles, listJobFiles } from "./listJobFiles.js";
import { decodeJobJson, type JobJsonRead, jobJsonRelPath, readJobJsonSync } from "./openJobJson.js";
import { isInMarkerState } from "./failureMarker.js";
import { parseFailureMarker } from "./parseFailureMarker.js";
import { PythonJsonError, parsePythonJson } from "./pythonJson.js";
import type { AssetRule, LocalFile, LocalJob } from "./types.js";

/**
 * Bump when the mapping from job.json to the Convex record changes (`toConvexRecord`,
 * `recordHash`): a fingerprint taken by an older reader then no longer matches, and every job
 * is parsed and compared again once.
 * v2: the component travels as its JSON text; roles follow the record's name.
 */
const READER_VERSION = "celstate-sync job.json reader v2\n";

/**
 * The fingerprint of job.json's bytes that the deployment keeps beside the record, read under
 * these asset rules. The rules are part of it because the files' roles follow from job.json
 * (the record's name) and the rules together: with both unchanged, so are the roles, and a
 * re-check can trust the fingerprint without parsing. Changing the rules re-checks every job once.
 */
export function sourceHashOf(bytes: Uint8Array, rules: readonly AssetRule[] = DEFAULT_ASSET_RULES): string {
  return createHash("sha256").update(READER_VERSION).update(compileAssetRules(rules).key).update(bytes).digest("hex");
}

/** job.json's bytes and stat, read once from one descriptor, with their fingerprint. */
export type JobSource = {
  jobId: string;
  dir: string;
  snap: JobJsonRead;
  sourceHash: string;
};

/** Checks the job folder and reads job.json, without parsing it. Synchronous; throws SyncError. */
export function readJobSource(jobsDir: string, jobId: string, rules: readonly AssetRule[] = DEFAULT_ASSET_RULES): JobSource {
  assertJobId(jobId);
  const dir = path.join(jobsDir, jobId);

  let dirStat: Stats;
  try {
    dirStat = lstatSync(dir);
  } catch (e) {
    throw fsError(e, { jobId, file: jobId, action: "lstat of the job folder" });
  }
  if (dirStat.isSymbolicLink()) {
    throw new SyncError("UNSAFE_PATH", "the job folder is a symlink; job folders must be real folders", { jobId, file: jobId });
  }
  if (!dirStat.isDirectory()) {
    throw new SyncError("UNSAFE_PATH", "the job's path is a file, not a folder", { jobId, file: jobId });
  }

  // Synchronous, like the listing: see `readJobJsonSync`.
  const snap = readJobJsonSync(dir, jobId);
  return { jobId, dir, snap, sourceHash: sourceHashOf(snap.bytes, rules) };
}

/** Longest text a marked record keeps of each free-text field (64 KiB of UTF-16 units). */
const MARKED_TEXT_MAX = 64 * 1024;

/**
 * What a marked job whose record breaks a Convex limit publishes: no telemetry, and each
 * free-text field cut to MARKED_TEXT_MAX with a note of how much was cut. The public view shows
 * none of these fields; the point is that it shows the job failed. job.json keeps everything.
 */
function reducedForMarker(record: JobRecordInput): JobRecordInput {
  const { telemetry: _dropped, ...rest } = record;
  const cut = (text: string | null | undefined) =>
    typeof text === "string" && text.length > MARKED_TEXT_MAX
      ? `${text.slice(0, MARKED_TEXT_MAX)}… [cut: ${text.length - MARKED_TEXT_MAX} more characters in job.json]`
      : text;
  const out: JobRecordInput = { ...rest, prompt: cut(rest.prompt) as string };
  for (const key of ["styleContext", "layoutIntent", "name"] as const) if (out[key] != null) out[key] = cut(out[key]);
  return out;
}

function documentProblem(record: JobRecordInput, sourceHash: string) {
  return findDocumentProblem({ ...record, updatedAtUs: isoToMicros(record.updatedAtIso) ?? 0, recordHash: "0".repeat(64), sourceHash });
}

/** The text of the component in job.json's text, exactly as written (null when there is none). */
export function componentTextOf(jobJsonText: string): string | null {
  return lastMember(splitTopLevel(jobJsonText), "component")?.valueText ?? null;
}

export async function readLocalJob(jobsDir: string, jobId: string, rules: readonly AssetRule[]): Promise<LocalJob> {
  return await interpretJob(readJobSource(jobsDir, jobId, rules), rules);
}

/**
 * Parses and validates a job.json already read, maps it to the Convex record and lists the
 * job's asset files (or takes the listing the caller already made).
 */
export async function interpretJob(source: JobSource, rules: readonly AssetRule[], files?: LocalFile[]): Promise<LocalJob> {
  const { jobId, dir, snap } = source;
  const where = { jobId, file: jobJsonRelPath(jobId) };

  const text = decodeJobJson(snap.bytes);
  if (text === null) throw new SyncError("JOB_JSON_UNPARSABLE", "is not valid UTF-8", where);
  let raw: unknown;
  try {
    raw = parsePythonJson(text);
  } catch (e) {
    const reason = e instanceof PythonJsonError ? e.message : String(e);
    throw new SyncError("JOB_JSON_UNPARSABLE", reason, { ...where, cause: e });
  }

  const check = checkJobRecord(raw);
  if (!check.ok) throw new SyncError("JOB_JSON_INVALID", check.problem, where);
  if (check.record.id !== jobId) {
    throw new SyncError(
      "JOB_ID_MISMATCH",
      `the record says id ${JSON.stringify(check.record.id)}, but its folder is ${JSON.stringify(jobId)}`,
      where,
    );
  }

  const rawObject = raw as Record<string, unknown>;
  // A marker parks the job only while job.json still shows the marker's state; if the pipeline
  // moved the job on and the marker merely rode along in its rewrite, the job syncs normally.
  const marker = isInMarkerState(rawObject, jobId) ? parseFailureMarker(rawObject) : null;
  let record = toConvexRecord(check.record, componentTextOf(text));
  // The same document the server will check (it adds updatedAtUs and recordHash, a 64-digit
  // hex string), so a record over a limit fails here, permanently and by name, before anything
  // is uploaded. Checked before hashing: the check stops at 16 levels, while the hash walks the
  // whole value and a record nested 100,000 deep (JSON.parse accepts it) would exhaust the stack.
  let problem = documentProblem(record, source.sourceHash);
  if (problem && marker !== null) {
    // A marked job publishes its failed state, which needs neither the telemetry nor the whole
    // of an enormous prompt: the record that broke the limit is still shown failed.
    const reduced = reducedForMarker(record);
    if (documentProblem(reduced, source.sourceHash) === null) [record, problem] = [reduced, null];
  }
  if (problem) {
    const field = jobJsonFieldName(problem.field);
    throw new SyncError("VALUE_LIMIT", `field \`${field}\` ${problem.reason}`, where);
  }
  const recordHash = hashRecord(record);

  // Asset names are the basenames of files in the job folder: a listed name with a path in it
  // (`../../secret.png`) can never be synced, and is refused by name instead of being waited for.
  const listed = componentFilenames(record);
  for (const name of listed) {
    if (!isPlainFileName(name)) {
      throw new SyncError(
        "UNSAFE_PATH",
        `component.assets lists ${JSON.stringify(name)}, which is not a plain file name (no /, NUL, . or ..)`,
        where,
      );
    }
  }

  // A marked job syncs its record alone: its files are not read. A listing made before the
  // parse knew no name: its roles are settled now.
  if (marker !== null) files = [];
  else files = files === undefined ? listJobFiles(dir, jobId, rules, record.name ?? null) : assignRoles(files, rules, record.name);
  return {
    jobId,
    dir,
    jobJson: { path: snap.path, size: snap.stat.size, mtimeMs: snap.stat.mtimeMs, ino: snap.stat.ino, text },
    raw: rawObject,
    record,
    recordHash,
    sourceHash: source.sourceHash,
    settled: record.status === "succeeded" || record.status === "failed",
    marker,
    files,
    listed,
  };
}
