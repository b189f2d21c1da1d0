/**
 * The job ids in the jobs folder: its sub-folders, streamed with `opendir` so that 100k jobs
 * never sit in memory as Dirent objects. Symlinked folders are not jobs (a job folder must be
 * real, see readJob); names that are no job folder's (isJobFolderName) are skipped.
 */
import type { Dir } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { isSafeJobId } from "./assertJobId.js";
import { isJobFolderName } from "./isJobFolderName.js";

export async function listJobIds(jobsDir: string): Promise<string[]> {
  let dir: Dir;
  try {
    dir = await opendir(jobsDir, { bufferSize: 256 });
  } catch (e) {
    throw new SyncError("JOBS_DIR_UNREADABLE", `cannot list the jobs folder ${jobsDir}: ${(e as Error).message}`, { cause: e });
  }
  const ids: string[] = [];
  try {
    // The iterator closes the directory when it ends or throws.
    for await (const entry of dir) {
      const name = entry.name;
      if (!isJobFolderName(name) || !isSafeJobId(name)) continue;
      // A link or a file is never a job folder; an entry of unknown type is looked at.
      if (entry.isDirectory()) {
        ids.push(name);
      } else if (
        !(
          entry.isSymbolicLink() ||
          entry.isFile() ||
          entry.isFIFO() ||
          entry.isSocket() ||
          entry.isBlockDevice() ||
          entry.isCharacterDevice()
        )
      ) {
        // File systems that do not report the entry type: ask lstat (never stat, which follows links).
        const st = await lstat(path.join(jobsDir, name)).catch(() => null);
        if (st?.isDirectory()) ids.push(name);
      }
    }
  } catch (e) {
    throw new SyncError("JOBS_DIR_UNREADABLE", `error while listing the jobs folder ${jobsDir}: ${(e as Error).message}`, { cause: e });
  }
  // Plain code-unit order: stable across locales and runs.
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
