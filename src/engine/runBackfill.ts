/**
 * One-shot reconcile of a set of jobs (all of them, or those named): the engine the `backfill`
 * and `retry` commands run. Remote state is read ahead in batches while the queue works, so a
 * large history costs one state query per batch plus one commit per job that changed.
 */
import { once } from "node:events";
import type { Logger } from "pino";
import type { Config } from "../config/configSchema.js";
import type { ErrorCode } from "../errors/codes.js";
import type { SyncError } from "../errors/SyncError.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { SyncEngine, type JobResult } from "./SyncEngine.js";
import { BACKFILL_DRAIN_MS } from "../timing.js";

export type BackfillSummary = {
  jobs: number;
  inSync: number;
  /** Of those in sync, how many were recognised by job.json's fingerprint, without a parse. */
  inSyncByFingerprint: number;
  syncedNow: number;
  wouldSync: number;
  failed: Array<{ jobId: string; code: ErrorCode; reason: string; marker: string }>;
  /** Still failing past the retry limits for errors that are not the job's own: never marked. */
  stuck: Array<{ jobId: string; code: ErrorCode; reason: string }>;
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
  /** The deployment did not answer or was not running for longer than `retry.maxRetryMs`: the run stopped. */
  deploymentDown: { code: ErrorCode; reason: string } | null;
  /** The run was stopped by this signal before it was done. */
  interrupted: NodeJS.Signals | null;
};

export type BackfillProgress = { done: number; total: number; bytes: number };

export type BackfillOptions = {
  config: Config;
  gateway: ConvexGateway;
  log: Logger;
  jobIds: string[];
  dryRun?: boolean;
  onProgress?: (p: BackfillProgress) => void;
  /** Aborting it stops the run: nothing new starts, in-flight work gets `drainMs`. Its reason may name the signal. */
  signal?: AbortSignal;
  /** Time given to in-flight work when the run is stopped. Default 5 s. */
  drainMs?: number;
  /** The start-up's look at the deployment, still under way: uploads and commits wait for it (EngineOptions). */
  deploymentChecked?: Promise<void>;
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
    ...(opts.deploymentChecked === undefined ? {} : { deploymentChecked: opts.deploymentChecked }),
  });
  const total = opts.jobIds.length;
  // A run's results, the last one per job: what the summary is made of (a one-shot run over
  // named jobs holds one entry per job it was given, as its list of ids does).
  const results = new Map<string, JobResult>();
  engine.on("result", (jobId: string, r: JobResult) => {
    results.set(jobId, r);
    opts.onProgress?.({ done: results.size, total, bytes: engine.totals.bytesUploaded });
  });

  // Everything that ends the run early aborts one controller: the caller's signal, a fatal
  // error, or a deployment that stays down for longer than the retry limit (the jobs waiting
  // for it spend no attempts, so without this the run would wait for as long as the outage).
  const halt = new AbortController();
  const onAbort = () => halt.abort();
  if (opts.signal?.aborted) halt.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  engine.once("fatal", onAbort);
  const outage: { down: BackfillSummary["deploymentDown"] } = { down: null };
  let outageTimer: NodeJS.Timeout | undefined;
  engine.on("backend", (down: boolean) => {
    clearTimeout(outageTimer);
    if (!down) return;
    outageTimer = setTimeout(() => {
      const last = engine.deployment.lastResult;
      const error = last !== null && !last.answers ? last.error : null;
      outage.down = { code: error?.code ?? "NETWORK", reason: error?.describe() ?? "the deployment did not answer" };
      opts.log.error(
        { code: outage.down.code },
        `the deployment did not answer for ${opts.config.retry.maxRetryMs} ms (retry.maxRetryMs): stopping the run; no job was marked for it (${outage.down.reason})`,
      );
      halt.abort();
    }, opts.config.retry.maxRetryMs);
  });

  await engine.checkAll(opts.jobIds, 0, halt.signal);
  if (!halt.signal.aborted) await Promise.race([engine.queue.onIdle(), once(halt.signal, "abort")]);
  clearTimeout(outageTimer);
  opts.signal?.removeEventListener("abort", onAbort);
  if (halt.signal.aborted) await engine.close(opts.drainMs ?? BACKFILL_DRAIN_MS);

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
    stuck: [],
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
    deploymentDown: outage.down,
    interrupted: opts.signal?.aborted && isSignalName(opts.signal.reason) ? opts.signal.reason : null,
  };
  const notReached = engine.fatal
    ? "not reached: the run stopped"
    : outage.down
      ? `not synced: the deployment was not running (${outage.down.code}); left for the next run`
      : summary.interrupted
        ? `not reached: interrupted by ${summary.interrupted}`
        : "not reached";
  for (const id of opts.jobIds) {
    const r = results.get(id);
    if (r === undefined) {
      summary.pending.push({ jobId: id, reason: notReached });
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
      case "stuck":
        summary.stuck.push({ jobId: id, code: r.code, reason: r.detail });
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
  return { summary, fatal: engine.fatal, results };
}

function isSignalName(v: unknown): v is NodeJS.Signals {
  return v === "SIGINT" || v === "SIGTERM";
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Exit status of a backfill: 0 only when every job is in sync afterwards; 2 for a fatal error;
 * 128 + the signal's number when a signal stopped it (130 for Ctrl-C), as a shell reports it;
 * 1 for anything left out of sync (failed, stuck, pending, a deployment that was down).
 */
export function backfillExitCode(s: BackfillSummary, fatal: SyncError | null): number {
  if (fatal) return 2;
  if (s.interrupted) return 128 + (SIGNAL_NUMBERS[s.interrupted] ?? 0);
  const notInSync = s.failed.length + s.stuck.length + s.pending.length + s.parked.length + s.remoteAhead.length;
  return notInSync === 0 && s.deploymentDown === null ? 0 : 1;
}
