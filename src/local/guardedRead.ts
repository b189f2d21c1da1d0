/**
 * The one guarded read of a file in a job folder, on a descriptor: opened read-only, never
 * through a symlink and never blocking on a FIFO; accepted by the descriptor's fstat (the
 * reader says what it accepts: a regular file under a size cap, the file it listed); read from
 * that same descriptor, one byte past the announced size at most, so a file that grew shows it;
 * and fstat-ed again, so a file that changed while it was read is FILE_CHANGED, never bytes
 * that belong to no version of it. job.json (openJobJson.ts) and assets (openAssetFile.ts)
 * both read through here; they differ only in what they accept and how their errors read.
 *
 * Opening, checking and whole reads are synchronous on purpose. What is read whole is bounded
 * (job.json by MAX_JOB_JSON_BYTES, an asset by hashFile's READ_WHOLE_MAX_BYTES, the trace by its
 * size limit) and nearly always in the page cache, where a few system calls on one descriptor
 * cost a fraction of the promise round trips `fs/promises` needs for the same work; and a
 * descriptor number can be held across awaits as well as a FileHandle (the job.json rewrite
 * holds one). Only a file too big to read whole is read asynchronously, in chunks
 * (`readGuardedChunks`), so hashing a large output never stalls the event loop; it reads the
 * same descriptor through the same checks.
 */
import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats } from "node:fs";
import { promisify } from "node:util";
import type { SyncError } from "../errors/SyncError.js";

/** Read-only, never through a symlink, never blocking on a FIFO (O_NOFOLLOW/O_NONBLOCK are 0 on Windows). */
export const SAFE_READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** What a reader accepts of its file, and how its errors name it. */
export type ReadGuard = {
  /** Throws (a SyncError) unless the descriptor's stat is one the reader accepts. */
  accept(stat: Stats): void;
  /** The reader's error for anything thrown on the way; `opening` while the open itself failed. */
  fail(e: unknown, opening: boolean): SyncError;
  /** The reader's FILE_CHANGED error: size or mtime moved while the file was read. */
  changed(): SyncError;
};

/** An open descriptor, the stat its guard accepted, and that guard. The caller closes it (`closeSync`). */
export type GuardedFile = { fd: number; stat: Stats; guard: ReadGuard };

/** Opens `abs` with SAFE_READ_FLAGS and checks its fstat with the guard; closed again on refusal. */
export function openGuarded(abs: string, guard: ReadGuard): GuardedFile {
  let fd: number;
  try {
    fd = openSync(abs, SAFE_READ_FLAGS);
  } catch (e) {
    throw guard.fail(e, true);
  }
  try {
    const stat = fstatSync(fd);
    guard.accept(stat);
    return { fd, stat, guard };
  } catch (e) {
    closeSync(fd);
    throw guard.fail(e, false);
  }
}

/**
 * Opens `abs` through the guard and reads it whole. The descriptor stays open for a caller that
 * needs the inode kept alive (it closes it); on any failure it is closed here.
 */
export function readGuarded(abs: string, guard: ReadGuard): GuardedFile & { bytes: Buffer } {
  const file = openGuarded(abs, guard);
  try {
    const bytes = readAtMostSync(file.fd, file.stat.size);
    throwIfChanged(file, bytes.length);
    return { ...file, bytes };
  } catch (e) {
    closeSync(file.fd);
    throw guard.fail(e, false);
  }
}

const readAsync = promisify(read);

/**
 * Reads an open guarded file from its start in reads of at most `chunkBytes`, handing each chunk
 * (a view of one reused buffer: copy what you keep) and the bytes read so far to `onChunk`,
 * awaited before the next read. The descriptor stays open: the caller closes it.
 */
export async function readGuardedChunks(
  file: GuardedFile,
  chunkBytes: number,
  onChunk: (chunk: Buffer, total: number) => void | Promise<void>,
): Promise<void> {
  const limit = file.stat.size + 1;
  const buf = Buffer.allocUnsafe(Math.min(chunkBytes, limit));
  let total = 0;
  try {
    while (total < limit) {
      const { bytesRead } = await readAsync(file.fd, buf, 0, Math.min(buf.length, limit - total), total);
      if (bytesRead === 0) break;
      total += bytesRead;
      await onChunk(buf.subarray(0, bytesRead), total);
    }
    throwIfChanged(file, total);
  } catch (e) {
    throw file.guard.fail(e, false);
  }
}

/**
 * Reads from the start of `fd` until end of file, but at most `size + 1` bytes: one byte more
 * than the file announced, so a file that grew (someone writing in place) fills the buffer and
 * shows it.
 */
function readAtMostSync(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size + 1);
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/** FILE_CHANGED unless exactly the announced bytes were read and size and mtime held still. */
function throwIfChanged(file: GuardedFile, bytesRead: number): void {
  const after = fstatSync(file.fd);
  if (bytesRead !== file.stat.size || after.size !== file.stat.size || after.mtimeMs !== file.stat.mtimeMs) throw file.guard.changed();
}
