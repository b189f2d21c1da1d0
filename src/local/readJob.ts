/**
 * Reads one job folder into a `LocalJob`: job.json (once, from one descriptor), its record
 * validated and mapped to the Convex shape, the failure marker if any, and the asset files
 * the rules select. Read-only; every failure is a SyncError naming the job and the file.
 */
import { lstatSync } from "node:fs";
import path from "node:path";
import { componentFilenames } from "../../convex/lib/jobStore.js";
import { findDocumentProblem } from "../../convex/lib/limits.js";
import { isoToMicros } from "../../convex/lib/time.js";
import { SyncError } from "../errors/SyncError.js";
import { assertJobId, isSafeJobId } from "./assertJobId.js";
import { fsError } from "./fsError.js";
import { checkJobRecord, jobJsonFieldName, recordHash as hashRecord, toConvexRecord } from "./jobRecord.js";
import { listJobFiles } from "./listJobFiles.js";
import { decodeJobJson, jobJsonRelPath, readJobJsonSync } from "./openJobJson.js";
import { parseFailureMarker } from "./parseFailureMarker.js";
import { PythonJsonError, parsePythonJson } from "./pythonJson.js";
import type { AssetRule, LocalJob } from "./types.js";

export async function readLocalJob(jobsDir: string, jobId: string, rules: readonly AssetRule[]): Promise<LocalJob> {
  assertJobId(jobId);
  const dir = path.join(jobsDir, jobId);
  const file = jobJsonRelPath(jobId);
  const where = { jobId, file };

  let dirStat;
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

  // Synchronous, like the listing below: see `readJobJsonSync`.
  const snap = readJobJsonSync(dir, jobId);

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

  const record = toConvexRecord(check.record);
  // The same document the server will check (it adds updatedAtUs and recordHash, a 64-digit
  // hex string), so a record over a limit fails here, permanently and by name, before anything
  // is uploaded. Checked before hashing: the check stops at 16 levels, while the hash walks the
  // whole value and a record nested 100,000 deep (JSON.parse accepts it) would exhaust the stack.
  const problem = findDocumentProblem({ ...record, updatedAtUs: isoToMicros(record.updatedAt) ?? 0, recordHash: "0".repeat(64) });
  if (problem) {
    const field = jobJsonFieldName(problem.field);
    throw new SyncError("VALUE_LIMIT", `field \`${field}\` ${problem.reason}`, where);
  }
  const recordHash = hashRecord(record);

  // Asset names are the basenames of files in the job folder: a listed name with a path in it
  // (`../../secret.png`) can never be synced, and is refused by name instead of being waited for.
  const listed = componentFilenames(record.component);
  for (const name of listed) {
    if (!isSafeJobId(name)) {
      throw new SyncError(
        "UNSAFE_PATH",
        `component.assets lists ${JSON.stringify(name)}, which is not a plain file name (no /, \\, NUL, . or ..)`,
        where,
      );
    }
  }

  const files = await listJobFiles(dir, jobId, rules);
  const rawObject = raw as Record<string, unknown>;
  return {
    jobId,
    dir,
    jobJson: { path: snap.path, size: snap.stat.size, mtimeMs: snap.stat.mtimeMs, ino: snap.stat.ino, text },
    raw: rawObject,
    record,
    recordHash,
    settled: record.status === "succeeded" || record.status === "failed",
    marker: parseFailureMarker(rawObject),
    files,
    listed,
  };
}
