/**
 * reconcile(jobId): observe → plan → apply, level-triggered. Whatever woke it, it reads the job
 * as it is now (observeJob), decides with the pure planJob, and applies the plan (applyPlan):
 * uploads, then one atomic commit. Running it twice changes nothing the second time. A dry run
 * (status, backfill --dry-run) stops after the plan. It never classifies errors itself (the
 * engine does) and never writes to job.json (markers are the engine's decision).
 */
import { SyncError } from "../errors/SyncError.js";
import type { RemoteJobState } from "../remote/ConvexGateway.js";
import { type Applied, type ApplyDeps, applyPlan, publishMarkedRecord } from "./applyPlan.js";
import { type ObserveDeps, observeJob, observeStoredCopy } from "./observeJob.js";
import { isFinalStatus, type JobPlan, planJob, storedCopyMatches } from "./planJob.js";

export type ReconcileDeps = ObserveDeps & ApplyDeps & { dryRun?: boolean };

/** What a reconcile decided, and what it did about it (`applied`: the commit, when it made one). */
export type ReconcileOutcome = { plan: JobPlan; applied: Applied | null };

/**
 * The fast form of a reconcile for a batch whose states are at hand (triage of a large
 * history): synchronous and allocation-light, no queue entry, promise or log line per job.
 * Whether the job's status is final when it is in sync by `storedCopyMatches`, or null when only
 * a full reconcile can tell (anything changed, nothing remote, or the folder could not be read:
 * the reconcile reports why).
 */
export function finalIfInSync(
  deps: Pick<ObserveDeps, "jobsDir" | "rules" | "plan">,
  jobId: string,
  remote: RemoteJobState | null,
): boolean | null {
  const seen = observeStoredCopy(deps, jobId, remote);
  if (seen === null || !storedCopyMatches(seen.source, seen.files, remote, deps.plan)) return null;
  return isFinalStatus(remote.status);
}

export async function reconcileJob(deps: ReconcileDeps, jobId: string, signal?: AbortSignal): Promise<ReconcileOutcome> {
  // Said from the start (the state read and the hashing take a round trip or more): commits
  // gathering meanwhile may wait for this one, until it commits or turns out to have nothing to.
  const coming = deps.dryRun ? undefined : deps.commits.expectCommit();
  try {
    const observation = await observeJob(deps, jobId);
    const plan = planJob(observation, deps.plan);
    if (plan.kind === "fail") throw new SyncError(plan.code, plan.message, { jobId, file: plan.file });
    if (coming === undefined || observation.kind !== "job" || observation.local === null) return { plan, applied: null };
    const local = observation.local;
    if (plan.kind === "parked" && plan.publishRecord) {
      coming();
      await publishMarkedRecord(deps, local);
    }
    if (plan.kind !== "sync") return { plan, applied: null };
    return { plan, applied: await applyPlan(deps, local, plan, signal, coming) };
  } finally {
    coming?.();
  }
}
