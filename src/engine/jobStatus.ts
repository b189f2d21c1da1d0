/**
 * The one vocabulary for what became of a job (or, for `status` and `--dry-run`, what would):
 * the engine's results, the backfill summary, `status`, the reconciles metric's `outcome`
 * label and the README all use these words, each meaning one thing.
 */
export const JOB_STATUS_MEANINGS = {
  "in-sync": "Convex holds exactly what is on disk",
  synced: "uploaded and committed by this run",
  "would-sync": "the daemon would upload or commit (a dry run, or status)",
  pending: "a file is still being written, or a passing condition: it resolves by itself",
  parked: "job.json carries a failure marker (`celstate-sync retry <id>` clears it)",
  failed: "the job's own data is at fault (file and reason named); marked where the code says so",
  stuck:
    "still failing past the retry limits for a reason that is not the job's data (a bug, an overloaded deployment, a file this user may not read); retried, never marked",
  "remote-ahead": "the deployment holds a newer record than job.json (another writer, or a clock step); left alone",
  gone: "the job folder no longer exists",
} as const;

export type JobStatus = keyof typeof JOB_STATUS_MEANINGS;

export const JOB_STATUSES = Object.keys(JOB_STATUS_MEANINGS) as JobStatus[];

/** The statuses a read-only look (`status`) can give: it never syncs. */
export type ObservedStatus = Exclude<JobStatus, "synced">;

export const OBSERVED_STATUSES = JOB_STATUSES.filter((s): s is ObservedStatus => s !== "synced");
