/**
 * Opens an asset file exactly as it was listed, through the guarded read (guardedRead.ts):
 * never through a symlink (the file itself or a folder on the way), and only while it is still
 * the same regular file with the same size and mtime. A file that moved on since it was listed
 * is FILE_CHANGED (transient): the next reconcile lists it afresh. After a read, the path must
 * still lead to the listed file (`assertFileUnchangedSync`), not only the descriptor.
 */
import { closeSync, createReadStream, lstatSync, type ReadStream, type Stats } from "node:fs";
import path from "node:path";
import { SyncError } from "../errors/SyncError.js";
import { errnoOf, fsError } from "./fsError.js";
import { type GuardedFile, openGuarded, readGuarded, type ReadGuard } from "./guardedRead.js";
import type { LocalFile } from "./types.js";

type Where = { jobId: string; file: string };

function whereOf(jobDir: string, file: LocalFile): Where {
  const jobId = path.basename(jobDir);
  return { jobId, file: `${jobId}/${file.relPath}` };
}

function changed(where: Where, what: string): SyncError {
  return new SyncError("FILE_CHANGED", what, where);
}

/** Same inode, size and mtime as listed, and still a regular file. */
export function sameAsListed(st: Stats, file: LocalFile): boolean {
  return st.isFile() && st.ino === file.ino && st.size === file.size && st.mtimeMs === file.mtimeMs;
}

function describeChange(st: Stats, file: LocalFile): string {
  if (!st.isFile()) return "is no longer a regular file";
  if (st.ino !== file.ino) return "was replaced by another file since it was listed";
  if (st.size !== file.size) return `changed size since it was listed (${file.size} → ${st.size} bytes)`;
  return "was modified since it was listed (mtime moved)";
}

/**
 * Refuses relative paths that escape the folder and folders on the way that are symlinks.
 * Synchronous lstats: a few microseconds each on a local disk, less than a promise round trip.
 */
function checkPath(jobDir: string, file: LocalFile, where: Where): string {
  const parts = file.relPath.split("/");
  if (path.posix.isAbsolute(file.relPath) || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new SyncError("UNSAFE_PATH", `${JSON.stringify(file.relPath)} is not a plain path inside the job folder`, where);
  }
  for (let n = 1; n < parts.length; n++) {
    const rel = parts.slice(0, n).join("/");
    let st: Stats;
    try {
      st = lstatSync(path.join(jobDir, rel));
    } catch (e) {
      if (errnoOf(e) === "ENOENT") throw changed(where, `disappeared (its folder ${rel} is gone)`);
      throw fsError(e, { ...where, action: `lstat of ${rel}` });
    }
    if (!st.isDirectory()) {
      throw new SyncError(
        "UNSAFE_PATH",
        `${rel} (on the way to ${file.relPath}) is ${st.isSymbolicLink() ? "a symlink" : "not a folder"}`,
        where,
      );
    }
  }
  return path.join(jobDir, file.relPath);
}

/** What is done with the asset, as its errors say it: it changed while it was being read, or hashed. */
export type AssetUse = "read" | "hashed";

function assetGuard(file: LocalFile, where: Where, use: AssetUse): ReadGuard {
  return {
    accept(st) {
      if (!sameAsListed(st, file)) throw changed(where, describeChange(st, file));
    },
    fail(e, opening) {
      if (!opening) return fsError(e, { ...where, action: use === "read" ? "reading the asset" : "hashing the asset" });
      if (errnoOf(e) === "ENOENT") return changed(where, "disappeared since it was listed");
      if (errnoOf(e) === "ELOOP") return new SyncError("UNSAFE_PATH", "became a symlink since it was listed", { ...where, cause: e });
      return fsError(e, { ...where, action: "opening the asset" });
    },
    changed: () => changed(where, `changed while it was being ${use}`),
  };
}

/** The listed file, open and verified by fstat, to read through `readGuardedChunks`. The caller closes it. */
export function openAssetSync(jobDir: string, file: LocalFile, use: AssetUse = "read"): GuardedFile {
  const where = whereOf(jobDir, file);
  return openGuarded(checkPath(jobDir, file, where), assetGuard(file, where, use));
}

/**
 * A stream of exactly the listed bytes (`size` of them) from the verified descriptor; it closes
 * the descriptor when it ends or is destroyed. Call `assertFileUnchangedSync` after the upload
 * to know the bytes were not rewritten underneath. Async so that a refusal arrives as a
 * rejection, like every other failure of an upload's body.
 */
export async function openAssetStream(jobDir: string, file: LocalFile): Promise<ReadStream> {
  const { fd } = openAssetSync(jobDir, file);
  // `end` is inclusive and must be >= 0; an empty file simply has nothing to read.
  return createReadStream(file.absPath, {
    fd,
    start: 0,
    ...(file.size > 0 ? { end: file.size - 1 } : {}),
    // Whole small files in one read, large ones in 1 MiB reads (the byte budget bounds how many).
    highWaterMark: Math.min(Math.max(file.size, 1), 1024 * 1024),
  });
}

/**
 * The whole listed file in one synchronous read: from a descriptor verified to be the listed
 * file before and after, and the path checked to still lead to it. For bounded files only (the
 * caller decides): the read blocks the event loop for as long as it takes.
 */
export function readAssetSync(jobDir: string, file: LocalFile): Buffer {
  const where = whereOf(jobDir, file);
  const { fd, bytes } = readGuarded(checkPath(jobDir, file, where), assetGuard(file, where, "read"));
  closeSync(fd);
  assertFileUnchangedSync(jobDir, file);
  return bytes;
}

/** Throws FILE_CHANGED unless the path still holds the listed file, unmodified. */
export function assertFileUnchangedSync(jobDir: string, file: LocalFile): void {
  const where = whereOf(jobDir, file);
  const abs = checkPath(jobDir, file, where);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") throw changed(where, "disappeared while it was being read");
    throw fsError(e, { ...where, action: "lstat of the asset" });
  }
  if (!sameAsListed(st, file)) throw changed(where, describeChange(st, file));
}
