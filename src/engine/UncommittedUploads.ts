/**
 * Blobs uploaded for a commit that did not go through (an OCC conflict, a 429, a timeout, a
 * crash of the call): the deployment keeps them until the collector's grace period (6 h) has
 * passed, so the job's next attempt commits them instead of uploading the same bytes again.
 * Keyed by job, file and content: a file that changed meanwhile is uploaded afresh. Entries are
 * used at most REUSE_MS after their upload, far inside the grace period; a blob that is gone
 * all the same makes the commit fail with STORAGE_ID_UNKNOWN, and the job's entries are dropped.
 */
export const REUSE_MS = 60 * 60 * 1000;
/** Entries kept in all; the oldest go first (a bound, not a cache policy: each is small). */
const MAX_ENTRIES = 10_000;

type Entry = { storageId: string; atMs: number };

export class UncommittedUploads {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  private static key(jobId: string, relPath: string, sha256: string): string {
    return `${jobId}\0${relPath}\0${sha256}`;
  }

  /** A blob already uploaded with these bytes for this job's file, if one is still fresh. */
  find(jobId: string, relPath: string, sha256: string): string | null {
    const key = UncommittedUploads.key(jobId, relPath, sha256);
    const e = this.entries.get(key);
    if (e === undefined) return null;
    if (this.now() - e.atMs > REUSE_MS) {
      this.entries.delete(key);
      return null;
    }
    return e.storageId;
  }

  /** Remembers an upload until its commit goes through. */
  add(jobId: string, relPath: string, sha256: string, storageId: string): void {
    this.entries.set(UncommittedUploads.key(jobId, relPath, sha256), { storageId, atMs: this.now() });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The job's commit went through, or its blobs are not to be trusted: forget them. */
  forgetJob(jobId: string): void {
    const prefix = `${jobId}\0`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
