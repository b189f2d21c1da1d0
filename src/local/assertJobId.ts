/**
 * A job id names exactly one folder under the jobs folder: one path segment, never `.` or
 * `..`, no separator, no NUL. Checked before any path is built from it.
 */
import { SyncError } from "../errors/SyncError.js";

export function isSafeJobId(jobId: string): boolean {
  return jobId !== "" && jobId !== "." && jobId !== ".." && !/[/\\\0]/.test(jobId);
}

export function assertJobId(jobId: string): void {
  if (!isSafeJobId(jobId)) {
    throw new SyncError(
      "UNSAFE_PATH",
      `job id ${JSON.stringify(jobId)} is not a single folder name (no /, \\, NUL, . or ..)`,
      { jobId },
    );
  }
}
