/**
 * Whether an asset may be uploaded yet. The pipeline writes PNGs in place with cv2.imwrite, so
 * a reader can catch one half-written. A PNG says itself when it is whole: it ends with its IEND
 * chunk (checked on the last bytes `hashFile` read, from the same descriptor as the hash, which
 * is also checked unchanged before and after). Any other file (the trace) must have been quiet
 * for `settleMs`; so must a PNG whose last bytes, as listed, are not IEND yet. Anything not
 * ready is FILE_SETTLING (transient: look again later); it is never an error about the job.
 */
import { closeSync, readSync } from "node:fs";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { openAssetSync } from "./openAssetFile.js";
import type { LocalFile } from "./types.js";

/** Length 0, type `IEND`, CRC 0xAE426082: the last 12 bytes of every complete PNG. */
export const PNG_IEND = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * True once the file's mtime is at least `settleMs` in the past. An mtime in the future (clock
 * skew, copied files) counts as not settled until the clock passes it.
 */
export function isSettled(file: Pick<LocalFile, "mtimeMs">, nowMs: number, settleMs: number): boolean {
  return nowMs - file.mtimeMs >= settleMs;
}

function whereOf(jobDir: string, file: LocalFile) {
  const jobId = path.basename(jobDir);
  return { jobId, file: `${jobId}/${file.relPath}` };
}

/** FILE_SETTLING if the file was modified less than `settleMs` ago; no I/O (the listed mtime). */
export function settleProblem(jobDir: string, file: LocalFile, { nowMs, settleMs }: { nowMs: number; settleMs: number }): SyncError | null {
  if (isSettled(file, nowMs, settleMs)) return null;
  const age = Math.max(0, Math.round(nowMs - file.mtimeMs));
  return new SyncError("FILE_SETTLING", `modified ${age} ms ago; waiting until it is ${settleMs} ms old`, whereOf(jobDir, file));
}

/**
 * True if the file is a PNG that, exactly as listed (same inode, size and mtime), ends with its
 * IEND chunk: the writer has written its last bytes, so it need not wait `settleMs` (hashing it
 * then checks the trailer again, on the bytes hashed). One read of 12 bytes; a file that moved
 * on since it was listed, or cannot be opened as listed, is not known complete (false), and the
 * settle rule decides. A fresh PNG is read for its tail only: one still being written is not
 * hashed over and over while it grows (and a read racing the writer is not FILE_CHANGED).
 */
export function isCompletePngAsListed(jobDir: string, file: LocalFile): boolean {
  if (file.contentType !== "image/png" || file.size < PNG_IEND.length) return false;
  let fd: number;
  try {
    fd = openAssetSync(jobDir, file).fd;
  } catch {
    return false;
  }
  try {
    const tail = Buffer.alloc(PNG_IEND.length);
    return readSync(fd, tail, 0, tail.length, file.size - tail.length) === tail.length && tail.equals(PNG_IEND);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** FILE_SETTLING if the file is a PNG whose last bytes (`tail`) are not the IEND chunk. */
export function trailerProblem(jobDir: string, file: LocalFile, tail: Uint8Array): SyncError | null {
  if (file.contentType !== "image/png" || Buffer.from(tail).equals(PNG_IEND)) return null;
  return new SyncError("FILE_SETTLING", "does not end with a PNG IEND chunk yet (still being written?)", whereOf(jobDir, file));
}
