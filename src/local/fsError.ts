/**
 * Maps a file-system error met while reading or writing a job folder to a SyncError that
 * names the job, the file (relative to the jobs folder) and what was being done. Only
 * `readJob`, `openAssetFile`, `failureMarker` and friends call it; the decision what an
 * errno means for a job lives here once.
 */
import { SyncError } from "../errors/SyncError.js";

/** Passing conditions of the machine, not of the job: retried, never a failure marker. */
const PASSING = new Set(["EMFILE", "ENFILE", "EAGAIN", "EBUSY", "EINTR", "ENOMEM", "ENOSPC"]);

export type FsErrorContext = { jobId: string; file: string; action: string };

export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export function fsError(e: unknown, { jobId, file, action }: FsErrorContext): SyncError {
  if (e instanceof SyncError) return e;
  const code = errnoOf(e);
  const why = `${action} failed: ${code ?? (e instanceof Error ? e.message : String(e))}`;
  const details = { jobId, file, cause: e };
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new SyncError("JOB_VANISHED", `disappeared (${why})`, details);
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new SyncError("FILE_UNREADABLE", `permission denied (${why})`, details);
    case "ELOOP":
      return new SyncError("UNSAFE_PATH", `is a symlink, which is never followed (${why})`, details);
    default:
      if (code !== undefined && PASSING.has(code)) {
        // No registry code says "the machine is busy"; FILE_SETTLING is the transient one
        // whose remedy (try again later) is right.
        return new SyncError("FILE_SETTLING", `${why}; will retry`, details);
      }
      return new SyncError("FILE_UNREADABLE", why, details);
  }
}
