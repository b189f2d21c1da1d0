/**
 * A job id names exactly one folder under the jobs folder: one path segment, never `.` or
 * `..`, no separator, no NUL. Checked before any path is built from it.
 */
import { SyncError } from "../errors/SyncError.js";

export function isSafeJobId(jobId: string): boolean {
  return jobId !== "" && jobId !== "." && jobId !== ".." && !/[/\\\0]/.test(jobId);
}

/**
 * A name for one file in one folder, as Linux takes it: anything but `/` and NUL, never `.` or
 * `..`. Asset filenames are user input (the record's name), so a backslash is just a character.
 */
export function isPlainFileName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\0]/.test(name);
}

export function assertJobId(jobId: string): void {
  if (!isSafeJobId(jobId)) {
    throw new SyncError("UNSAFE_PATH", `job id ${JSON.stringify(jobId)} is not a single folder name (no /, \\, NUL, . or ..)`, { jobId });
  }
}
