/**
 * The engine the backfill command and the watch daemon share: a WorkQueue of job ids whose
 * worker is `reconcileJob`, plus the decisions around it: which errors are retried, when a job
 * gets a failure marker, when the whole run must stop (a fatal error such as a refused token),
 * and the running totals a summary or a metrics endpoint reports.
 *
 * The one place that writes a failure marker is `fail`, and it writes one only for a code whose
 * registry entry says `marker: yes` (codes.ts): an error the job's own data caused. Everything
 * else — a bug, a deployment that is down, paused or overloaded — is retried, and past the retry
 * limits reported as STUCK (still retried, at the slowest pace), never marked.
 *
 * It owns no watcher and no timers of its own beyond the queue's; callers feed it job ids.
 */
import path from "node:path";
import { EventEmitter, once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { classifyError, isOutage } from "../errors/classifyError.js";
import { type ErrorCode, markerRuleOf } from "../errors/codes.js";
import { SyncError } from "../errors/SyncError.js";
import { writeFailureMarker } from "../local/failureMarker.js";
import type { AssetRule } from "../local/types.js";
import type { ConvexGateway, RemoteJobState } from "../remote/ConvexGateway.js";
import type { Config } from "../config/configSchema.js";
import type { JobStatus } from "./jobStatus.js";
import type { PlanOptions, SyncPlan } from "./planJob.js";
import { finalIfInSync, type ReconcileDeps, reconcileJob, type ReconcileOutcome } from "./reconcileJob.js";
import { backoffDelay } from "./backoff.js";
import { ByteBudget } from "./ByteBudget.js";
import { CommitBatcher, commitPolicy } from "./CommitBatcher.js";
import { DeploymentProbe } from "./DeploymentProbe.js";
import { RemoteStateBatcher } from "./RemoteStateBatcher.js";
import { TimeSlice } from "./TimeSlice.js";
import { UncommittedUploads } from "./UncommittedUploads.js";
import { UploadUrlPool } from "./UploadUrlPool.js";
import { type WorkContext, WorkQueue, type WorkResult } from "./WorkQueue.js";
import { plural } from "../text/plural.js";
import { CHANGED_DURING_RERUN_MS, OUTAGE_PROBE_MAX_MS } from "../timing.js";

export type EngineMode = "backfill" | "watch";

/**
 * State reads in flight during a pass over many jobs. One at a time leaves the deployment idle
 * while the daemon triages and the reply travels; three keep it busy (a 50,000-job re-check
 * against the local stand-in: 19.4 s with one, 14–15 s with two, 13–14 s with three) and cost
 * a real deployment three light queries at once.
 */
export const STATE_READS_AHEAD = 3;

/** Tries of publishing a marked record when the deployment refuses it for now (OCC, 429). */
const PUBLISH_MARKED_ATTEMPTS = 4;

/** Distinct unexpected errors whose stack is logged; past it they are only counted. */
const MAX_LOGGED_INTERNAL = 100;

/** A list cut into batches of `size`, or batches as they come. */
async function* inBatches(ids: readonly string[] | AsyncIterable<readonly string[]>, size: number): AsyncGenerator<readonly string[]> {
  if (!Array.isArray(ids)) {
    yield* ids as AsyncIterable<readonly string[]>;
    return;
  }
  for (let i = 0; i < ids.length; i += size) yield ids.slice(i, i + size);
}

/** What the engine remembers of a job's current streak of retried errors. */
type Streak = {
  /** Some error of the streak is not the job's own (a bug, the deployment): no marker at the end. */
  notOwn: boolean;
  lastCode: ErrorCode;
};

/**
 * What became of a job, in the one vocabulary (jobStatus.ts): a plan (planJob.ts) that needed nothing
 * done is its own result (`in-sync`, `parked`, `remote-ahead`, `gone`); a `sync` plan ends
 * `synced` (or `would-sync` in a dry run); a `wait` that outlasted a backfill's patience ends
 * `pending`; a `fail`, or an error, ends `failed` (or `stuck` when the error is not the job's
 * own). Reports, `status` and the `reconciles_total{outcome}` metric use these names as they are.
 */
export type JobResult =
  | {
      status: Exclude<JobStatus, "pending" | "stuck" | "failed">;
      detail?: string;
      /** The job's status is final (succeeded or failed). */
      final?: boolean;
      /** In sync because job.json's bytes and every file's stat matched the deployment's (not parsed). */
      byFingerprint?: boolean;
    }
  | { status: "pending"; detail: string; final?: boolean }
  /** Retried past the limits for errors that are not the job's own: reported, still retried, never marked. */
  | { status: "stuck"; code: ErrorCode; detail: string; final?: boolean }
  | { status: "failed"; code: ErrorCode; detail: string; marker: string; final?: boolean };

/**
 * The in-sync results, shared: a history of 50,000 jobs holds 50,000 results, and nearly all
 * of them are one of these four. Frozen, so no holder can change another's.
 */
const IN_SYNC_RESULTS = [false, true].flatMap((final) =>
  [false, true].map((byFingerprint): JobResult => Object.freeze({ status: "in-sync", final, ...(byFingerprint ? { byFingerprint } : {}) })),
);

function inSyncResult(final: boolean, byFingerprint: boolean): JobResult {
  return IN_SYNC_RESULTS[(final ? 2 : 0) + (byFingerprint ? 1 : 0)]!;
}

/** What a dry run would do for a job, in one line (`backfill --dry-run`). */
function describeSyncPlan(p: SyncPlan): string {
  return [
    p.recordChanged ? "commit record" : "commit assets",
    ...p.uploads.map((u) => `upload ${u.file.relPath} (${u.file.size} bytes)`),
    ...p.metadataUpdates.map((m) => `refresh ${m.file.relPath}`),
    ...p.removes.map((r) => `remove ${r}`),
  ].join("; ");
}

export type EngineTotals = {
  reconciles: number;
  filesUploaded: number;
  bytesUploaded: number;
  commits: number;
  failures: number;
  markersWritten: number;
  /** Errors nobody classified (INTERNAL), each occurrence. */
  internalErrors: number;
  lastSuccessAt: number | null;
};

export type EngineOptions = {
  config: Config;
  gateway: ConvexGateway;
  log: Logger;
  mode: EngineMode;
  dryRun?: boolean;
  /**
   * The start-up's look at the deployment, when it runs alongside the first reads (a backfill):
   * uploads and commits wait for it; a refusal (token, API version) is fatal. Without it the
   * caller has looked before starting the engine.
   */
  deploymentChecked?: Promise<void>;
};

export class SyncEngine extends EventEmitter {
  readonly queue: WorkQueue;
  readonly states: RemoteStateBatcher;
  readonly totals: EngineTotals = {
    reconciles: 0,
    filesUploaded: 0,
    bytesUploaded: 0,
    commits: 0,
    failures: 0,
    markersWritten: 0,
    internalErrors: 0,
    lastSuccessAt: null,
  };
  fatal: SyncError | null = null;
  /** Jobs retried past the limits for errors that are not their own, with the last error. */
  readonly stuck = new Map<string, SyncError>();
  readonly deployment: DeploymentProbe;
  private readonly streaks = new Map<string, Streak>();
  private readonly loggedInternal = new Set<string>();
  private readonly urls: UploadUrlPool;
  private readonly commits: CommitBatcher;
  /** Upload bytes in flight across every reconcile: the queue bounds runs, this bounds their uploads. */
  private readonly bytes: ByteBudget;
  private readonly uncommitted = new UncommittedUploads();
  private readonly settlingSince = new Map<string, number>();
  /**
   * Runs that gave their queue slot back while their commit waits and flies (see applyPlan):
   * at most `concurrency` of them, so the reconciles alive at once stay within twice it.
   */
  private detached = 0;
  private readonly rules: readonly AssetRule[];
  private readonly plan: PlanOptions;
  /** The triage under way, if any: the next batch's waits for it. */
  private triaging: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: EngineOptions) {
    super();
    const { config, gateway } = opts;
    this.rules = config.assets;
    this.plan = { checksum: config.checksum, prune: config.prune, settleMs: config.settleMs };
    this.states = new RemoteStateBatcher(gateway, config.stateBatchSize);
    this.urls = new UploadUrlPool(gateway);
    this.commits = new CommitBatcher(gateway, commitPolicy(opts.mode));
    this.deployment = new DeploymentProbe({ gateway, onFatal: (e) => this.setFatal(e) });
    this.queue = new WorkQueue((jobId, ctx) => this.work(jobId, ctx), {
      concurrency: config.concurrency,
      backoff: { baseMs: config.retry.baseMs, maxMs: config.retry.maxMs },
      maxAttempts: config.retry.maxAttempts,
      maxRetryMs: config.retry.maxRetryMs,
      isBackendDown: (e) => this.isDeploymentDown(e),
      probeMaxMs: Math.min(OUTAGE_PROBE_MAX_MS, config.retry.maxMs),
      onGiveUp: (jobId, error, attempts) => this.giveUp(jobId, error, attempts),
      onBackendStateChange: (down) => {
        if (down) this.states.forget();
        opts.log.warn({ backendDown: down }, down ? "Convex unreachable: probing one job at a time" : "Convex reachable again");
        this.emit("backend", down);
      },
    });
    this.bytes = new ByteBudget(config.maxBytesInFlight);
    opts.deploymentChecked?.catch((e: unknown) => this.setFatal(classifyError(e)));
  }

  /**
   * An outage error of one job gates every job only when the deployment itself fails a
   * handshake too; otherwise it was this job's request alone, retried on its own backoff.
   */
  private async isDeploymentDown(error: unknown): Promise<boolean> {
    if (!isOutage(error)) return false;
    return !(await this.deployment.check()).answers;
  }

  private setFatal(err: SyncError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.opts.log.error({ code: err.code }, err.describe());
    this.emit("fatal", err);
  }

  enqueue(jobId: string, priority = 0): void {
    if (this.fatal) return;
    this.queue.add(jobId, { priority });
  }

  /**
   * The fast lane of a pass over many jobs, given their states just read: each job the queue
   * owes nothing whose job.json bytes and file stats match its state is recorded in sync there
   * and then (`finalIfInSync`); the others keep their state for their reconcile and are
   * returned, for the queue. A history of in-sync jobs is thus checked without a queue entry, a
   * promise or a log line per job, and no state outlives the batch it came in: the pass is
   * faster, and the heap keeps nothing per job. The checks are synchronous (a read of job.json
   * and a few stats, about 0.2 ms a job): the event loop gets a turn every few milliseconds
   * (TimeSlice), and batches are triaged one at a time (several in flight would each take
   * their slice in the same turn), so a live event waits a few milliseconds at most, however
   * long the pass.
   */
  async triage(ids: readonly string[], states: ReadonlyArray<RemoteJobState | null>): Promise<string[]> {
    const turn = this.triaging.then(() => this.triageNow(ids, states));
    this.triaging = turn.catch(() => undefined);
    return await turn;
  }

  private async triageNow(ids: readonly string[], states: ReadonlyArray<RemoteJobState | null>): Promise<string[]> {
    const deps = { jobsDir: this.opts.config.jobsDir, rules: this.rules, plan: this.plan };
    const rest: string[] = [];
    const slice = new TimeSlice();
    for (let k = 0; k < ids.length; k++) {
      if (slice.due()) await slice.yield();
      const jobId = ids[k]!;
      const remote = states[k] ?? null;
      const final = this.queue.isBusy(jobId) ? null : finalIfInSync(deps, jobId, remote);
      if (final === null) {
        this.states.keep(jobId, remote);
        rest.push(jobId);
        continue;
      }
      this.totals.reconciles++;
      this.totals.lastSuccessAt = Date.now();
      this.record(jobId, inSyncResult(final, true));
    }
    return rest;
  }

  /**
   * Checks many jobs (a backfill, the daemon's start-up) in batches: up to STATE_READS_AHEAD
   * state reads in flight, each batch triaged the moment its states arrive, and what triage
   * leaves queued at `priority` (each id told to `onQueued`), never more than two batches ahead
   * of the workers. The ids come as a list or as batches read from the folder as the pass goes
   * (`jobIdBatches`), so a pass over a million jobs holds a few batches, never the million. A
   * failed state read is harmless: that batch is queued and each reconcile reads its own.
   * Resolves when every id is triaged or queued (not when the queue is done), or soon after
   * `stop` aborts or a fatal error: no wait here outlives either, even while no job can finish
   * (the deployment is down and nothing produces a result).
   */
  async checkAll(
    ids: readonly string[] | AsyncIterable<readonly string[]>,
    priority: number,
    stop?: AbortSignal,
    onQueued?: (jobId: string) => void,
  ): Promise<void> {
    const batch = this.opts.config.stateBatchSize;
    const reads = new Set<Promise<void>>();
    const halted = () => stop?.aborted === true || this.fatal !== null;
    for await (const chunk of inBatches(ids, batch)) {
      while (reads.size >= STATE_READS_AHEAD) await Promise.race(reads);
      while (this.queue.size > batch * 2 && !halted()) await this.nextResultOrHalt(stop);
      if (halted()) break;
      const read: Promise<void> = this.states
        .read(chunk)
        .then(
          (states) => this.triage(chunk, states),
          (e: unknown) => {
            this.opts.log.debug({ err: (e as Error).message }, "state read failed; reconciles read their own");
            return [...chunk];
          },
        )
        .then((rest) => {
          // Jobs not found in sync are about to upload, most of them: the upload URL is fetched
          // now rather than by the first upload, one round trip later.
          if (rest.length > 0 && !this.opts.dryRun) this.urls.prefetch();
          for (const id of rest) {
            this.enqueue(id, priority);
            onQueued?.(id);
          }
        })
        .finally(() => reads.delete(read));
      reads.add(read);
    }
    await Promise.all(reads);
  }

  /** Resolves on the next result, a fatal error, or `stop`, whichever comes first. */
  private async nextResultOrHalt(stop: AbortSignal | undefined): Promise<void> {
    const halt = new AbortController();
    const onStop = () => halt.abort();
    stop?.addEventListener("abort", onStop, { once: true });
    this.once("fatal", onStop);
    try {
      await once(this, "result", { signal: halt.signal });
    } catch (e) {
      if ((e as Error).name !== "AbortError") throw e;
    } finally {
      stop?.removeEventListener("abort", onStop);
      this.off("fatal", onStop);
    }
  }

  private reconcileDeps(log: Logger, releaseSlot?: () => void): ReconcileDeps {
    return {
      ...(releaseSlot === undefined ? {} : { releaseSlot }),
      jobsDir: this.opts.config.jobsDir,
      rules: this.rules,
      gateway: this.opts.gateway,
      commits: this.commits,
      ...(this.opts.deploymentChecked === undefined ? {} : { writable: () => this.opts.deploymentChecked! }),
      states: this.states,
      urls: this.urls,
      uncommitted: this.uncommitted,
      acquireBytes: (n, s) => this.bytes.acquire(n, s),
      settleMs: this.opts.config.settleMs,
      plan: this.plan,
      dryRun: this.opts.dryRun ?? false,
      onUploaded: (bytes) => this.emit("uploaded", bytes),
      log,
    };
  }

  private async work(jobId: string, { attempt, signal, releaseSlot }: WorkContext): Promise<WorkResult> {
    const log = this.opts.log.child({ jobId, attempt });
    this.totals.reconciles++;
    let detached = false;
    // Only a backfill's commits wait for company (commitPolicy): a live one holds its slot for
    // no longer than its round trip, so giving it back would only put more runs in flight.
    const detach =
      releaseSlot === undefined || this.opts.mode !== "backfill"
        ? undefined
        : () => {
            if (detached || this.detached >= this.opts.config.concurrency) return;
            detached = true;
            this.detached++;
            releaseSlot();
          };
    let outcome: ReconcileOutcome;
    try {
      outcome = await reconcileJob(this.reconcileDeps(log, detach), jobId, signal);
    } catch (raw) {
      return await this.onError(jobId, raw, attempt, log);
    } finally {
      if (detached) this.detached--;
    }
    if (outcome.plan.kind !== "wait") this.endStreak(jobId);
    return this.onOutcome(jobId, outcome, log);
  }

  private onOutcome(jobId: string, { plan, applied }: ReconcileOutcome, log: Logger): WorkResult {
    if (plan.kind !== "wait") this.settlingSince.delete(jobId);
    switch (plan.kind) {
      case "wait":
        return this.onWait(jobId, plan, log);
      case "sync": {
        if (applied === null) {
          // A dry run. Storing only the fingerprint changes nothing a reader could see: in sync.
          if (!plan.fingerprintOnly) {
            this.record(jobId, { status: "would-sync", final: plan.final, detail: describeSyncPlan(plan) });
            return { kind: "done" };
          }
          if (plan.deferred !== null) return this.onWait(jobId, { ...plan.deferred, final: plan.final }, log);
          this.record(jobId, inSyncResult(plan.final, false));
          return { kind: "done" };
        }
        this.totals.commits++;
        this.totals.filesUploaded += applied.uploaded;
        this.totals.bytesUploaded += applied.bytes;
        this.totals.lastSuccessAt = Date.now();
        this.record(jobId, { status: "synced", detail: applied.commit.outcome, final: plan.final });
        log.info(
          { outcome: applied.commit.outcome, uploads: applied.uploaded, bytes: applied.bytes },
          applied.commit.outcome === "stale" ? "remote already newer" : "synced",
        );
        // The pipeline moved on while we committed: level-triggered, so just run again (after
        // a beat, so that a burst of rewrites lands as one more commit, not one per write).
        // A file left out of the commit because it was still being written: once it is ready.
        const again = Math.min(applied.changedDuring ? CHANGED_DURING_RERUN_MS : Infinity, plan.deferred?.afterMs ?? Infinity);
        return again === Infinity ? { kind: "done" } : { kind: "wait", afterMs: again };
      }
      case "in-sync":
        this.totals.lastSuccessAt = Date.now();
        this.record(jobId, inSyncResult(plan.final, plan.via === "fingerprint"));
        return { kind: "done" };
      case "parked":
        this.record(jobId, { status: "parked", detail: plan.reason, final: plan.final });
        return { kind: "done" };
      case "remote-ahead":
        this.record(jobId, { status: "remote-ahead", detail: `remote updated_at ${plan.remoteUpdatedAt}`, final: plan.final });
        log.warn({ remoteUpdatedAt: plan.remoteUpdatedAt }, "remote record is newer than job.json: left alone");
        return { kind: "done" };
      case "gone":
        this.record(jobId, { status: "gone" });
        return { kind: "done" };
      case "fail":
        // reconcileJob raises it as the job's own error (onError marks it); never reached.
        throw new SyncError(plan.code, plan.message, { jobId, file: plan.file });
    }
  }

  /** A file still being written, or a listed asset not there yet: look again, later each time. */
  private onWait(jobId: string, wait: { file: string; reason: string; afterMs: number; final: boolean }, log: Logger): WorkResult {
    const since = this.settlingSince.get(jobId) ?? Date.now();
    this.settlingSince.set(jobId, since);
    const waited = Date.now() - since;
    if (this.opts.mode === "backfill" && waited > this.opts.config.settleWaitMs) {
      const file = `${jobId}/${wait.file}`;
      this.record(jobId, { status: "pending", detail: `job ${jobId}, file ${file}: ${wait.reason}`, final: wait.final });
      log.warn({ file, reason: wait.reason }, "job still settling: left for the next run");
      return { kind: "done" };
    }
    // A file that never finishes (its writer died mid-write) must not cost a reconcile and
    // a remote state query every 100 ms for as long as the daemon runs: the wait grows with
    // the time already waited, up to retry.maxMs.
    const cap = Math.max(wait.afterMs, this.opts.config.retry.maxMs);
    return { kind: "wait", afterMs: Math.min(cap, Math.max(wait.afterMs, Math.round(waited / 4))) };
  }

  private async onError(jobId: string, raw: unknown, attempt: number, log: Logger): Promise<WorkResult> {
    const err = classifyError(raw, { jobId });
    if (err.kind === "fatal") {
      this.endStreak(jobId);
      this.setFatal(err);
      return { kind: "failed", error: err };
    }
    if (err.kind === "invalid-local-data") {
      this.endStreak(jobId);
      await this.fail(jobId, err, attempt, false, log);
      return { kind: "failed", error: err };
    }
    // An expired upload URL (or a blob collected before its commit): take a fresh URL.
    if (err.code === "STORAGE_ID_UNKNOWN") {
      this.urls.invalidate();
      // One of the blobs kept for this job may be the one that is gone: upload them afresh.
      this.uncommitted.forgetJob(jobId);
    }
    const streak = this.streaks.get(jobId);
    this.streaks.set(jobId, { notOwn: (streak?.notOwn ?? false) || markerRuleOf(err.code) !== "after retries", lastCode: err.code });
    if (err.kind === "internal") this.onInternal(err, raw, log, streak === undefined);
    else log.debug({ code: err.code, err: err.message }, "retrying");
    return { kind: "retry", error: err, ...(err.retryAfterMs === undefined ? {} : { afterMs: err.retryAfterMs }) };
  }

  /**
   * An error nobody expected is ours (or the deployment's) to fix, never the job's: counted;
   * its stack logged the first time that error is seen (a bug that hits every job must not
   * write a stack per job); each job's first one in a streak logged in one line.
   */
  private onInternal(err: SyncError, raw: unknown, log: Logger, firstInStreak: boolean): void {
    this.totals.internalErrors++;
    this.emit("internal", err);
    const key = err.message;
    if (!this.loggedInternal.has(key) && this.loggedInternal.size < MAX_LOGGED_INTERNAL) {
      this.loggedInternal.add(key);
      log.error(
        { code: err.code, err: raw instanceof Error ? raw : err },
        `unexpected error (a bug, reported and retried; no marker): ${err.describe()}`,
      );
    } else if (firstInStreak) {
      log.warn({ code: err.code }, `unexpected error, retrying: ${err.describe()}`);
    }
  }

  private endStreak(jobId: string): void {
    this.streaks.delete(jobId);
    if (this.stuck.delete(jobId)) this.emit("unstuck", jobId);
  }

  /**
   * The queue gave up on a job after too many retried errors. Only a streak of the job's own
   * errors (a file that keeps changing) earns a marker; anything else — a bug, a deployment
   * that is overloaded — leaves the job unmarked and STUCK: reported, and in the daemon tried
   * again at the slowest backoff, for as long as it runs.
   */
  private async giveUp(jobId: string, raw: unknown, attempts: number): Promise<void> {
    const last = classifyError(raw, { jobId });
    const streak = this.streaks.get(jobId);
    this.streaks.delete(jobId);
    const log = this.opts.log.child({ jobId });
    if (streak?.notOwn !== false) {
      const err = new SyncError(
        "STUCK",
        `still failing after ${plural(attempts, "attempt", "attempts")} (not a problem of the job's data; no marker); last error: ${last.describe()}`,
        {
          jobId,
          cause: last,
        },
      );
      this.stuck.set(jobId, err);
      this.record(jobId, { status: "stuck", code: last.code, detail: err.describe() });
      log.error({ code: err.code, lastCode: last.code }, err.describe());
      this.emit("stuck", jobId, err);
      if (this.opts.mode === "watch") this.queue.add(jobId, { afterMs: this.opts.config.retry.maxMs });
      return;
    }
    const err = new SyncError(
      "RETRIES_EXHAUSTED",
      `gave up after ${plural(attempts, "attempt", "attempts")}; last error: ${last.describe()}`,
      {
        jobId,
        cause: last,
      },
    );
    await this.fail(jobId, err, attempts, true, log);
  }

  /**
   * A marked job reads "failed" in job.json; the public view must say so at once, not when
   * the next event comes (a backfill has none). One more reconcile does it: it plans the job
   * parked and commits its record alone. A refusal that may pass (an OCC conflict, a 429) is
   * tried again a few times, with backoff; any other failure is left to the next look at the job.
   */
  private async publishMarked(jobId: string, log: Logger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await reconcileJob(this.reconcileDeps(log), jobId);
        return;
      } catch (e) {
        const err = classifyError(e, { jobId });
        if (err.kind !== "transient" || attempt >= PUBLISH_MARKED_ATTEMPTS) {
          log.debug({ err: err.message }, "the marked record was not published yet");
          return;
        }
        await sleep(backoffDelay(attempt, this.opts.config.retry));
      }
    }
  }

  /** The only place a marker is written: for codes the registry marks (`marker: yes`). */
  private async fail(jobId: string, err: SyncError, attempts: number, retryable: boolean, log: Logger): Promise<void> {
    this.totals.failures++;
    let marker = "not written";
    if (markerRuleOf(err.code) === "yes" && this.opts.config.markFailures && !this.opts.dryRun) {
      try {
        marker = await writeFailureMarker(path.join(this.opts.config.jobsDir, jobId), jobId, {
          reason: err.describe(),
          attempts,
          retryable,
        });
        if (marker === "written") {
          this.totals.markersWritten++;
          this.emit("marker", jobId, err);
        }
        if (marker === "written" || marker === "unchanged") await this.publishMarked(jobId, log);
      } catch (e) {
        marker = `could not be written: ${(e as Error).message}`;
      }
    }
    this.record(jobId, { status: "failed", code: err.code, detail: err.describe(), marker });
    log.error({ code: err.code, file: err.file, marker }, err.describe());
    this.emit("failed", jobId, err);
  }

  /**
   * Every result is told, never kept: whoever needs them keeps what it needs (a backfill its
   * run's, the daemon its watched jobs'), so a settled job costs the engine nothing.
   */
  private record(jobId: string, result: JobResult): void {
    this.emit("result", jobId, result);
  }

  async close(deadlineMs: number): Promise<{ abandoned: string[] }> {
    return await this.queue.close({ deadlineMs });
  }
}
