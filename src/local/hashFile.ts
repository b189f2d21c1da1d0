/**
 * SHA-256 of a listed asset, read through one bounded buffer (1 MiB, or the file's size if
 * smaller: never `readFile`, outputs can be large and many are hashed at once), from a
 * descriptor verified to be the listed file, and checked again afterwards: a file written in
 * place while hashed (cv2.imwrite does that) is FILE_CHANGED, never a wrong hash. The last
 * bytes read come back as `tail`, so a PNG's trailer is checked without opening it again.
 */
import { createHash } from "node:crypto";
import { closeSync } from "node:fs";
import { readGuardedChunks } from "./guardedRead.js";
import { assertFileUnchangedSync, openAssetSync, readAssetSync } from "./openAssetFile.js";
import type { LocalFile } from "./types.js";

export const HASH_CHUNK_BYTES = 1024 * 1024;
/**
 * Files up to this size are read whole, synchronously, and their bytes returned for the upload
 * (a page-cached read of 1 MiB takes well under a millisecond; four promise round trips per file
 * cost more than that on a busy loop). Larger files are streamed in HASH_CHUNK_BYTES reads.
 */
export const READ_WHOLE_MAX_BYTES = 1024 * 1024;
/** How many of the last bytes `hashFile` returns: a PNG's IEND chunk. */
export const TAIL_BYTES = 12;

export type HashOptions = {
  /** Called after each chunk with the bytes read so far (progress bars; tests use it to interfere). */
  onProgress?: (bytes: number) => void | Promise<void>;
  /** Read size; HASH_CHUNK_BYTES by default. */
  chunkBytes?: number;
};

export type FileHash = {
  sha256: string;
  bytes: number;
  /** The file's last TAIL_BYTES bytes (all of it if shorter). */
  tail: Buffer;
  /**
   * The bytes hashed, for a file read whole (up to READ_WHOLE_MAX_BYTES): uploading them sends
   * exactly what was hashed, without reading the file again.
   */
  data?: Buffer;
};

export async function hashFile(jobDir: string, file: LocalFile, options: HashOptions = {}): Promise<FileHash> {
  if (file.size <= READ_WHOLE_MAX_BYTES && options.onProgress === undefined && options.chunkBytes === undefined) {
    const data = readAssetSync(jobDir, file);
    const sha256 = createHash("sha256").update(data).digest("hex");
    return { sha256, bytes: data.length, tail: Buffer.from(data.subarray(Math.max(0, data.length - TAIL_BYTES))), data };
  }
  // Too big to read whole without holding up the event loop: the same guarded descriptor, read
  // in chunks asynchronously (one byte past the listed size fits, so a file that grew is seen).
  const open = openAssetSync(jobDir, file, "hashed");
  const hash = createHash("sha256");
  let tail = Buffer.alloc(0);
  let bytes = 0;
  try {
    await readGuardedChunks(open, options.chunkBytes ?? HASH_CHUNK_BYTES, async (chunk, total) => {
      hash.update(chunk);
      tail = Buffer.from(
        chunk.length >= TAIL_BYTES ? chunk.subarray(chunk.length - TAIL_BYTES) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES),
      );
      bytes = total;
      await options.onProgress?.(total);
    });
  } finally {
    closeSync(open.fd);
  }
  // The descriptor proves the inode did not change; the path must still lead to it too.
  assertFileUnchangedSync(jobDir, file);
  return { sha256: hash.digest("hex"), bytes, tail };
}
