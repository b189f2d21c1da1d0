/**
 * Blobs uploaded for a commit that did not go through (an OCC conflict, a 429, a timeout, a
 * crash of the call): the deployment keeps them until the collector's grace period (6 h) has
 * passed, so the job's next attempt commits them instead of uploading the same bytes again.
 * Keyed by job, file and content: a file that changed meanwhile is uploaded afresh. Entries are
 * used at most UNCOMMITTED_REUSE_MS (src/timing.ts) after their upload, far inside the grace period; a blob that is gone
 * all the same makes the commit fail with STORAGE_ID_UNKNOWN, and the job's entries are dropped.
 */
import { UNCOMMITTED_REUSE_MS } from "../timing.js";
/** Jobs kept in all; the oldest go first (a bound, not a cache policy: each entry is small). */
const MAX_JOBS = 1_000;

type Entry = { storageId: string; atMs: number };

export class UncommittedUploads {
  /** jobId → `<relPath>\0<sha256>` → the blob. */
  private readonly jobs = new Map<string, Map<string, Entry>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A blob already uploaded with these bytes for this job's file, if one is still fresh. */
  find(jobId: string, relPath: string, sha256: string): string | null {
    const e = this.jobs.get(jobId)?.get(`${relPath}\0${sha256}`);
    if (e === undefined || this.now() - e.atMs > UNCOMMITTED_REUSE_MS) return null;
    return e.storageId;
  }

  /** Remembers an upload until its commit goes through. */
  add(jobId: string, relPath: string, sha256: string, storageId: string): void {
    let files = this.jobs.get(jobId);
    if (files === undefined) {
      files = new Map();
      this.jobs.set(jobId, files);
      if (this.jobs.size > MAX_JOBS) this.jobs.delete(this.jobs.keys().next().value!);
    }
    files.set(`${relPath}\0${sha256}`, { storageId, atMs: this.now() });
  }

  /** The job's commit went through, or its blobs are not to be trusted: forget them. */
  forgetJob(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /** Blobs kept, over all jobs. */
  get size(): number {
    let n = 0;
    for (const files of this.jobs.values()) n += files.size;
    return n;
  }
}
