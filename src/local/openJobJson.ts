/**
 * Reads `<job>/job.json` once, safely: opened without following a symlink and without
 * blocking on a FIFO, checked to be a regular file, and read from that same descriptor, so
 * the stat and the bytes describe one and the same file even while the pipeline replaces it.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { fsError } from "./fsError.js";

/** Far above Convex's 1 MiB document limit: anything bigger is refused without reading it. */
export const MAX_JOB_JSON_BYTES = 16 * 1024 * 1024;

/** Read-only, never through a symlink, never blocking on a FIFO (O_NOFOLLOW/O_NONBLOCK are 0 on Windows). */
export const SAFE_READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export type JobJsonSnapshot = {
  /** Still open: the caller closes it. Holding it keeps the inode (and its number) alive. */
  handle: FileHandle;
  path: string;
  bytes: Buffer;
  stat: Stats;
};

export function jobJsonRelPath(jobId: string): string {
  return `${jobId}/job.json`;
}

function checkStat(stat: Stats, jobId: string, file: string): void {
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
}

/**
 * Reads from the start of `fd` until end of file, but at most `size + 1` bytes: one byte more
 * than the file announced, so a file that grew (someone writing in place) fills the buffer and
 * shows it. The caller compares the length with what it expected.
 */
export function readAtMostSync(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size + 1);
  let n = 0;
  for (;;) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (got === 0) break;
    n += got;
    if (n === buf.length) break;
  }
  return buf.subarray(0, n);
}

function changedWhileRead(n: number, stat: Stats, after: Stats): boolean {
  return n !== stat.size || after.size !== stat.size || after.mtimeMs !== stat.mtimeMs;
}

/**
 * The same read as `openJobJson`, done synchronously and closed at once: for the reconcile's
 * observe step, which reads every job.json of a history. A job.json is a few KiB in the page
 * cache; four synchronous calls on one descriptor cost a small fraction of four promise round
 * trips, and they keep the same guarantee (the stat and the bytes come from one file).
 */
export function readJobJsonSync(jobDir: string, jobId: string): Omit<JobJsonSnapshot, "handle"> {
  const file = jobJsonRelPath(jobId);
  const abs = path.join(jobDir, "job.json");
  let fd: number;
  try {
    fd = openSync(abs, SAFE_READ_FLAGS);
  } catch (e) {
    throw fsError(e, { jobId, file, action: "opening job.json" });
  }
  try {
    const stat = fstatSync(fd);
    checkStat(stat, jobId, file);
    const bytes = readAtMostSync(fd, stat.size);
    if (changedWhileRead(bytes.length, stat, fstatSync(fd))) {
      throw new SyncError("FILE_CHANGED", "job.json changed while it was being read", { jobId, file });
    }
    return { path: abs, bytes, stat };
  } catch (e) {
    throw fsError(e, { jobId, file, action: "reading job.json" });
  } finally {
    closeSync(fd);
  }
}

/** Opens and reads job.json; the returned handle must be closed by the caller. */
export async function openJobJson(jobDir: string, jobId: string): Promise<JobJsonSnapshot> {
  const file = jobJsonRelPath(jobId);
  const abs = path.join(jobDir, "job.json");
  let handle: FileHandle;
  try {
    handle = await open(abs, SAFE_READ_FLAGS);
  } catch (e) {
    throw fsError(e, { jobId, file, action: "opening job.json" });
  }
  try {
    const stat = await handle.stat();
    checkStat(stat, jobId, file);
    // One byte more than announced: if it fills, someone is writing in place.
    const buf = Buffer.alloc(stat.size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (changedWhileRead(n, stat, await handle.stat())) {
      throw new SyncError("FILE_CHANGED", "job.json changed while it was being read", { jobId, file });
    }
    return { handle, path: abs, bytes: buf.subarray(0, n), stat };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw fsError(e, { jobId, file, action: "reading job.json" });
  }
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
