/**
 * The watch daemon's event filter: which job a path reported by a watcher is about, or null for
 * a path the daemon drops. Dropped: the jobs folder itself and anything outside it, entries
 * whose name is no job folder's (isJobFolderName), and paths inside a job that are never synced
 * (isIgnoredPath: studio/, the pipeline's temp files, the daemon's own). Pure, and the only
 * filter: the backends report raw paths; the daemon hands them this rule as `ignored`.
 */
import path from "node:path";
import { isIgnoredPath } from "../local/defaultAssetRules.js";
import { isJobFolderName } from "../local/isJobFolderName.js";

export function jobIdOfPath(jobsDir: string, p: string): string | null {
  const rel = path.relative(jobsDir, p);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return null;
  const [jobId = "", ...inside] = rel.split(path.sep);
  return isJobFolderName(jobId) && !isIgnoredPath(inside.join("/")) ? jobId : null;
}
