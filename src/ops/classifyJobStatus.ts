/**
 * What `status` calls a job, decided from what observe + plan says about it (or the error it
 * raised), in the words the engine's results use (jobStatus.ts): a job's status here is what a
 * backfill run now would end with. Pure, so the mapping is tested in one table; the plan
 * itself is the engine's, which is what makes "in sync" here mean exactly what the daemon
 * means by it.
 */
import type { JobPlan } from "../engine/planJob.js";
import type { ObservedStatus } from "../engine/jobStatus.js";
import type { ErrorCode } from "../errors/codes.js";
import { classifyError } from "../errors/classifyError.js";
import { SyncError } from "../errors/SyncError.js";
import { plural } from "../text/plural.js";

export type JobStatusEntry = {
  jobId: string;
  state: ObservedStatus;
  /** One line for the operator: what is off, or what the daemon would do. */
  detail: string;
  /** The error code, when an error decided the state. */
  code?: ErrorCode;
  /** The file concerned, relative to the jobs folder, when one is. */
  file?: string;
};

/** A job's plan (observe + plan, nothing applied), as `status` reports it. */
export function describePlan(jobId: string, plan: JobPlan): JobStatusEntry {
  switch (plan.kind) {
    case "in-sync":
      return { jobId, state: "in-sync", detail: "in sync" };
    case "sync": {
      // Storing only the fingerprint changes nothing a reader could see.
      if (plan.fingerprintOnly) {
        return plan.deferred === null ? { jobId, state: "in-sync", detail: "in sync" } : settling(jobId, plan.deferred.file);
      }
      const parts: string[] = [];
      if (plan.uploads.length > 0) {
        parts.push(`upload ${plural(plan.uploads.length, "file", "files")} (${plan.uploads.map((u) => u.file.relPath).join(", ")})`);
      }
      if (plan.metadataUpdates.length > 0) parts.push(`refresh ${plural(plan.metadataUpdates.length, "asset row", "asset rows")}`);
      if (plan.removes.length > 0)
        parts.push(`remove ${plural(plan.removes.length, "remote asset", "remote assets")} (${plan.removes.join(", ")})`);
      if (plan.recordChanged) parts.push("commit the record");
      return { jobId, state: "would-sync", detail: `would ${parts.join(", ") || "commit"}` };
    }
    case "wait":
      return settling(jobId, plan.file);
    case "parked":
      return { jobId, state: "parked", detail: `failure marker: ${plan.reason}`, file: `${jobId}/job.json` };
    case "remote-ahead":
      return {
        jobId,
        state: "remote-ahead",
        detail: `the remote record (updated_at ${plan.remoteUpdatedAt}) is newer than job.json; the daemon leaves it alone`,
      };
    case "fail":
      return describeError(jobId, new SyncError(plan.code, plan.message, { jobId, file: plan.file }));
    case "gone":
      return { jobId, state: "gone", detail: "the job folder does not exist", file: jobId };
  }
}

function settling(jobId: string, file: string): JobStatusEntry {
  return { jobId, state: "pending", detail: `settling: ${file} is still being written`, file: `${jobId}/${file}` };
}

/**
 * One line for an error about a job: the file it concerns, the reason, the code. Messages name
 * the file themselves in some places and leave it to the error's `file` in others.
 */
export function errorLine(e: SyncError): string {
  const where = e.file !== undefined && !e.message.includes(e.file) ? `${e.file}: ` : "";
  return `${where}${e.message} (${e.code})`;
}

/**
 * Errors observing or planning a job raised, as the run would end on them: the job's own data
 * is "failed"; a passing condition (a file that changed while read, a folder whose job.json
 * the pipeline has not written yet) is "pending"; anything else (a file this user may not
 * read, a bug) is retried past the limits and so "stuck". Backend trouble is not a job's
 * state: the caller stops on it.
 */
export function describeError(jobId: string, error: unknown): JobStatusEntry {
  const e = classifyError(error, { jobId });
  const base = { jobId, detail: errorLine(e), code: e.code, ...(e.file === undefined ? {} : { file: e.file }) };
  if (e.kind === "invalid-local-data") return { ...base, state: "failed" };
  if (e.kind === "transient" && e.code !== "FILE_UNREADABLE") return { ...base, state: "pending" };
  return { ...base, state: "stuck" };
}

/** Whether an error is about the deployment or the setup rather than one job: status stops. */
export function isRunWideError(error: unknown): boolean {
  const e = classifyError(error);
  return e.kind === "fatal" || e.kind === "outage";
}
