/**
 * Whether an asset may be uploaded yet. The pipeline writes PNGs in place with cv2.imwrite, so
 * a reader can catch one half-written: a file must have been quiet for `settleMs`, and a PNG
 * must end with its IEND chunk (checked on the last bytes `hashFile` read, from the same
 * descriptor as the hash). Anything not ready is FILE_SETTLING (transient: look again later);
 * it is never an error about the job.
 */
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
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

/** FILE_SETTLING if the file is a PNG whose last bytes (`tail`) are not the IEND chunk. */
export function trailerProblem(jobDir: string, file: LocalFile, tail: Uint8Array): SyncError | null {
  if (file.contentType !== "image/png" || Buffer.from(tail).equals(PNG_IEND)) return null;
  return new SyncError("FILE_SETTLING", "does not end with a PNG IEND chunk yet (still being written?)", whereOf(jobDir, file));
}
