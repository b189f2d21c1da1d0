/**
 * `status` as a function: for each job, the engine's own observe → plan (so "in sync" means
 * what the daemon means: the planner has nothing to do) against remote state read in batches,
 * and nothing applied. Files are only stat'ed unless size or mtime differ from the remote row,
 * then hashed, exactly as the planner asks. Nothing is written anywhere: no upload or commit
 * is ever made, and the gateway is read-only besides.
 */
import { type ObserveDeps, observeJob } from "../engine/observeJob.js";
import { planJob } from "../engine/planJob.js";
import { RemoteStateBatcher } from "../engine/RemoteStateBatcher.js";
import { classifyError } from "../errors/classifyError.js";
import { OBSERVED_STATUSES, type ObservedStatus } from "../engine/jobStatus.js";
import { describeError, describePlan, isRunWideError, type JobStatusEntry } from "./classifyJobStatus.js";
import { countByState, type JobReport, type JobRunOptions } from "./JobReport.js";
import { mapLimit } from "./mapLimit.js";
import { readStuckReport } from "../watch/stuckReport.js";
import { readOnlyGateway } from "./readOnlyGateway.js";

export type StatusReport = JobReport<ObservedStatus> & {
  /** One entry per job, in the order asked. */
  entries: JobStatusEntry[];
  /** Requests made to the deployment (state queries). */
  requests: number;
};

export type CollectStatusOptions = JobRunOptions & { now?: () => number };

export async function collectStatus(opts: CollectStatusOptions): Promise<StatusReport> {
  const { config } = opts;
  const gateway = readOnlyGateway(opts.gateway);
  const before = gateway.stats().requests;
  const states = new RemoteStateBatcher(gateway, config.stateBatchSize);
  const deps: ObserveDeps = {
    jobsDir: config.jobsDir,
    rules: config.assets,
    states,
    settleMs: config.settleMs,
    plan: { checksum: config.checksum, prune: config.prune, settleMs: config.settleMs },
    ...(opts.now ? { now: opts.now } : {}),
  };

  const entries: JobStatusEntry[] = [];
  const batch = config.stateBatchSize;
  for (let i = 0; i < opts.jobIds.length; i += batch) {
    const ids = opts.jobIds.slice(i, i + batch);
    try {
      await states.prefetch(ids);
    } catch (e) {
      throw classifyError(e);
    }
    const done = await mapLimit(ids, config.concurrency, async (jobId) => {
      try {
        return describePlan(jobId, planJob(await observeJob(deps, jobId), deps.plan));
      } catch (e) {
        if (isRunWideError(e)) throw classifyError(e, { jobId });
        opts.log?.debug({ jobId, err: e }, "status: job not in sync");
        return describeError(jobId, e);
      }
    });
    entries.push(...done);
  }

  // What the daemon itself reports stuck: what a look here sees (pending, would-sync) does not say why.
  const stuck = readStuckReport(config.jobsDir);
  for (const [n, e] of entries.entries()) {
    const s = stuck.get(e.jobId);
    if (s !== undefined && e.state !== "in-sync")
      entries[n] = { jobId: e.jobId, state: "stuck", detail: `the daemon reports: ${s.reason}`, code: "STUCK" };
  }
  return { ...countByState(OBSERVED_STATUSES, entries), entries, requests: gateway.stats().requests - before };
}

/** 0 when every job is in sync, 1 otherwise. */
export function statusExitCode(report: StatusReport): number {
  return report.counts["in-sync"] === report.jobs ? 0 : 1;
}
