/**
 * The job ids in the jobs folder: its sub-folders, streamed with `opendir` so that a million jobs
 * never sit in memory as Dirent objects. Symlinked folders are not jobs (a job folder must be
 * real, see readJob); names that are no job folder's (isJobFolderName) are skipped.
 */
import type { Dir } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { isSafeJobId } from "./assertJobId.js";
import { isJobFolderName } from "./isJobFolderName.js";

/**
 * Every job id in the jobs folder, in the directory's own order, as it is read: nothing is
 * held but the current entry, so a pass over a million jobs costs no memory that grows with
 * them. Yields between the directory's chunks (an `await` per read of `bufferSize` entries).
 */
export async function* eachJobId(jobsDir: string): AsyncGenerator<string> {
  let dir: Dir;
  try {
    dir = await opendir(jobsDir, { bufferSize: 256 });
  } catch (e) {
    throw new SyncError("JOBS_DIR_UNREADABLE", `cannot list the jobs folder ${jobsDir}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // The iterator closes the directory when it ends or throws.
    for await (const entry of dir) {
      const name = entry.name;
      if (!isJobFolderName(name) || !isSafeJobId(name)) continue;
      // A link or a file is never a job folder; an entry of unknown type is looked at.
      if (entry.isDirectory()) {
        yield name;
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
        if (st?.isDirectory()) yield name;
      }
    }
  } catch (e) {
    if (e instanceof SyncError) throw e;
    throw new SyncError("JOBS_DIR_UNREADABLE", `error while listing the jobs folder ${jobsDir}: ${(e as Error).message}`, { cause: e });
  }
}

/** The job ids of `eachJobId` in groups of `size`, for passes that read remote state in batches. */
export async function* jobIdBatches(jobsDir: string, size: number): AsyncGenerator<string[]> {
  let batch: string[] = [];
  for await (const id of eachJobId(jobsDir)) {
    batch.push(id);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Every job id, sorted in plain code-unit order: stable across locales and runs (reports list jobs in it). */
export async function listJobIds(jobsDir: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of eachJobId(jobsDir)) ids.push(id);
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
