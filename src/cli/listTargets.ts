/**
 * Which jobs a command works on: those named with --job, or every job folder on disk.
 */
import { SyncError } from "../errors/SyncError.js";
import { listJobIds } from "../local/listJobIds.js";

export async function listTargets(jobsDir: string, named: string[] | undefined): Promise<string[]> {
  if (named && named.length > 0) return [...new Set(named)];
  try {
    return await listJobIds(jobsDir);
  } catch (e) {
    throw new SyncError("JOBS_DIR_UNREADABLE", `cannot list jobs folder ${jobsDir}: ${(e as Error).message}`, { cause: e });
  }
}
