/**
 * One-shot reconcile of a set of jobs (all of them, or those named): the engine the `backfill`
 * and `retry` commands run. Remote state is read ahead in batches while the queue works, so a
 * large history costs one state query per batch plus one commit per job that changed.
 */
import type { Logger } from "pino";
import type { Config } from "../config/configSchema.js";
import type { ErrorCode } from "../errors/codes.js";
import type { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { SyncEngine, type JobResult } from "./SyncEngine.js";

export type BackfillSummary = {
  jobs: number;
  inSync: number;
  /** Of those in sync, how many were recognised by job.json's fingerprint, without a parse. */
  inSyncByFingerprint: number;
  syncedNow: number;
  wouldSync: number;
  failed: Array<{ jobId: string; code: ErrorCode; reason: string; marker: string }>;
  pending: Array<{ jobId: string; reason: string }>;
  parked: Array<{ jobId: string; reason: string }>;
  remoteAhead: string[];
  gone: number;
  filesUploaded: number;
  bytesUploaded: number;
  requests: number;
  requestsByFunction: Record<string, number>;
  durationMs: number;
  dryRun: boolean;
};

export type BackfillProgress = { done: number; total: number; bytes: number };

export type BackfillOptions = {
  config: Config;
  gateway: ConvexGateway;
  log: Logger;
  jobIds: string[];
  dryRun?: boolean;
  onProgress?: (p: BackfillProgress) => void;
  signal?: AbortSignal;
};

export type BackfillResult = { summary: BackfillSummary; fatal: SyncError | null; results: Map<string, JobResult> };

export async function runBackfill(opts: BackfillOptions): Promise<BackfillResult> {
  const started = Date.now();
  const before = opts.gateway.stats();
  const engine = new SyncEngine({
    config: opts.config,
    gateway: opts.gateway,
    log: opts.log,
    mode: "backfill",
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
  const total = opts.jobIds.length;
  engine.on("result", () => opts.onProgress?.({ done: engine.results.size, total, bytes: engine.totals.bytesUploaded }));
  const onAbort = () => void engine.close(5_000);
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  await engine.checkAll(opts.jobIds, 0, () => opts.signal?.aborted === true);
  if (engine.fatal) await engine.close(5_000);
  else await engine.queue.onIdle();
  opts.signal?.removeEventListener("abort", onAbort);

  const after = opts.gateway.stats();
  const byFunction: Record<string, number> = {};
  for (const [k, n] of Object.entries(after.byFunction)) {
    const d = n - (before.byFunction[k] ?? 0);
    if (d > 0) byFunction[k] = d;
  }
  const summary: BackfillSummary = {
    jobs: total,
    inSync: 0,
    inSyncByFingerprint: 0,
    syncedNow: 0,
    wouldSync: 0,
    failed: [],
    pending: [],
    parked: [],
    remoteAhead: [],
    gone: 0,
    filesUploaded: engine.totals.filesUploaded,
    bytesUploaded: engine.totals.bytesUploaded,
    requests: after.requests - before.requests,
    requestsByFunction: byFunction,
    durationMs: Date.now() - started,
    dryRun: opts.dryRun ?? false,
  };
  for (const id of opts.jobIds) {
    const r = engine.results.get(id);
    if (r === undefined) {
      summary.pending.push({ jobId: id, reason: engine.fatal ? "not reached: the run stopped" : "not reached" });
      continue;
    }
    switch (r.status) {
      case "in-sync":
        summary.inSync++;
        if (r.byFingerprint === true) summary.inSyncByFingerprint++;
        break;
      case "synced":
        summary.syncedNow++;
        break;
      case "would-sync":
        summary.wouldSync++;
        break;
      case "failed":
        summary.failed.push({ jobId: id, code: r.code, reason: r.detail, marker: r.marker });
        break;
      case "pending":
        summary.pending.push({ jobId: id, reason: r.detail });
        break;
      case "parked":
        summary.parked.push({ jobId: id, reason: r.detail ?? "" });
        break;
      case "remote-ahead":
        summary.remoteAhead.push(id);
        break;
      case "gone":
        summary.gone++;
        break;
    }
  }
  return { summary, fatal: engine.fatal, results: engine.results };
}

/** Exit status of a backfill: 0 only when every job is in sync afterwards. */
export function backfillExitCode(s: BackfillSummary, fatal: SyncError | null): number {
  if (fatal) return 2;
  const notInSync = s.failed.length + s.pending.length + s.parked.length + s.remoteAhead.length;
  return notInSync === 0 ? 0 : 1;
}
