/**
 * Reads `<job>/job.json` once, safely, through the guarded read (guardedRead.ts): never through
 * a symlink, never blocking on a FIFO, a regular file of at most MAX_JOB_JSON_BYTES, and its
 * stat and bytes from one descriptor, so they describe one and the same file even while the
 * pipeline replaces it. `readJobJsonSync` closes the descriptor at once (every reader but one);
 * `openJobJsonSync` hands it over open, for the compare-and-swap rewrite that must keep the
 * inode alive while it compares inode numbers.
 */
import { closeSync, type Stats } from "node:fs";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { fsError } from "./fsError.js";
import { readGuarded, type ReadGuard } from "./guardedRead.js";

/** Far above Convex's 1 MiB document limit: anything bigger is refused without reading it. */
export const MAX_JOB_JSON_BYTES = 16 * 1024 * 1024;

/** job.json's bytes and the stat of the descriptor they were read from. */
export type JobJsonRead = { path: string; bytes: Buffer; stat: Stats };

/** A read whose descriptor is still open: the caller closes `fd`, which keeps the inode (and its number) alive. */
export type JobJsonSnapshot = JobJsonRead & { fd: number };

export function jobJsonRelPath(jobId: string): string {
  return `${jobId}/job.json`;
}

function jobJsonGuard(jobId: string): ReadGuard {
  const file = jobJsonRelPath(jobId);
  return {
    accept(stat) {
      if (!stat.isFile()) {
        throw new SyncError("UNSAFE_PATH", "job.json is not a regular file", { jobId, file });
      }
      if (stat.size > MAX_JOB_JSON_BYTES) {
        throw new SyncError(
          "VALUE_LIMIT",
          `job.json is ${stat.size} bytes, more than the ${MAX_JOB_JSON_BYTES} bytes a record is read from`,
          { jobId, file },
        );
      }
    },
    fail: (e, opening) => fsError(e, { jobId, file, action: opening ? "opening job.json" : "reading job.json" }),
    changed: () => new SyncError("FILE_CHANGED", "job.json changed while it was being read", { jobId, file }),
  };
}

/** Reads job.json and leaves its descriptor open: the caller closes `fd`. */
export function openJobJsonSync(jobDir: string, jobId: string): JobJsonSnapshot {
  const abs = path.join(jobDir, "job.json");
  const { fd, stat, bytes } = readGuarded(abs, jobJsonGuard(jobId));
  return { fd, path: abs, bytes, stat };
}

/**
 * Reads job.json and closes it. Synchronous, like the reconcile's listing: a job.json is a few
 * KiB in the page cache, and the observe step reads every one of a history.
 */
export function readJobJsonSync(jobDir: string, jobId: string): JobJsonRead {
  const { fd, ...read } = openJobJsonSync(jobDir, jobId);
  closeSync(fd);
  return read;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 text of job.json, BOM kept (so the parser can name it); null if the bytes are not UTF-8. */
export function decodeJobJson(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
