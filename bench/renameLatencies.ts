/**
 * Matches the pipeline's job.json renames with the deployment's commits: for each rename, the
 * first commit of the same job carrying that state or a newer one. The daemon is
 * level-triggered, so a state superseded within milliseconds may reach Convex only as its
 * successor; the time to that successor is the time until Convex was at least that fresh.
 */
import type { CommitRecord } from "./BenchStandin.js";
import type { Rename } from "./LiveJob.js";

export function renameLatencies(
  renames: Rename[],
  commits: CommitRecord[],
): { latencies: number[]; byStage: Map<string, number[]>; exact: number; unmatched: Rename[] } {
  const byJob = new Map<string, CommitRecord[]>();
  for (const c of commits) {
    const list = byJob.get(c.jobId);
    if (list) list.push(c);
    else byJob.set(c.jobId, [c]);
  }
  const latencies: number[] = [];
  const byStage = new Map<string, number[]>();
  const unmatched: Rename[] = [];
  let exact = 0;
  for (const r of renames) {
    // updated_at strings share one format (microseconds, +00:00), so they order as text.
    const c = byJob.get(r.jobId)?.find((x) => x.updatedAt >= r.updatedAt && x.outcome !== "stale");
    if (c === undefined) {
      unmatched.push(r);
      continue;
    }
    if (c.updatedAt === r.updatedAt) exact++;
    latencies.push(c.atMs - r.atMs);
    const stage = byStage.get(r.stage) ?? [];
    stage.push(c.atMs - r.atMs);
    byStage.set(r.stage, stage);
  }
  return { latencies, byStage, exact, unmatched };
}
