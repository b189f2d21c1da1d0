/**
 * The watch daemon: keeps Convex within a fraction of a second of `jobs/` for as long as it
 * runs. It owns the file-event policy and the daemon's lifetime; the syncing itself is the
 * SyncEngine's, unchanged from backfill.
 *
 * Invariants:
 * - Events are hints, never data: an event only marks a job id dirty (priority 1, ahead of the
 *   start-up backlog); the reconcile reads the folder as it is.
 * - The daemon alone decides what an event is about (jobIdOfPath): the backend reports raw
 *   paths, and is handed the same rule as `ignored` so that dropped paths cost it nothing.
 * - Watch cost follows active jobs: the jobs folder is watched at depth 0; a job folder is
 *   watched while it is active (not settled, or changed within `activeWindowMs`), at most
 *   `maxWatchedJobs` at once (least recently active evicted first). A new job folder is
 *   watched first and reconciled right after, so writes that raced the watch are read anyway.
 * - A periodic rescan is the safety net: it stats every job's job.json, outputs/ and trace/
 *   and queues those changed (ctime) since the previous pass over every job began, plus the
 *   watched and the stuck ones. It keeps nothing per job: a settled, in-sync job costs the
 *   daemon no object at all, so memory at rest does not grow with the history. Like the
 *   start-up, it reads the folder as it goes and gives the event loop a turn every few
 *   milliseconds (TimeSlice).
 * - Hitting the inotify limit is said loudly (with the sysctl to raise it) and the watchers
 *   fall back to polling instead of silently missing changes.
 * - `backend_up` and `/readyz` say what the last look at the deployment saw: the light probe's
 *   (every BACKEND_PROBE_INTERVAL_MS, jobs or none), the start-up's, or the queue's when a job
 *   meets an outage; the latest look wins. Before the first answer the deployment is not up.
 * - Shutdown: stop events, drain the queue within a deadline, release the lock. Nothing is
 *   lost: the next start reconciles from disk.
 */
import { lstatSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config/configSchema.js";
import { eachJobId, jobIdBatches } from "../local/listJobIds.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { backoffDelay } from "../engine/backoff.js";
import { SyncEngine, type JobResult } from "../engine/SyncEngine.js";
import { TimeSlice } from "../engine/TimeSlice.js";
import type { ProbeResult } from "../engine/DeploymentProbe.js";
import type { SyncError } from "../errors/SyncError.js";
import { createMetrics, type DaemonMetrics } from "./metrics.js";
import { type HealthServer, startHealthServer } from "./healthServer.js";
import { ReachabilityProbe } from "./ReachabilityProbe.js";
import { jobIdOfPath } from "./jobIdOfPath.js";
import { writeStuckReport } from "./stuckReport.js";
import type { WatchEvent, WatcherBackend } from "./WatcherBackend.js";
import {
  BACKEND_PROBE_INTERVAL_MS,
  BACKEND_PROBE_TIMEOUT_MS,
  DEBOUNCE_MAX_WAIT_MS,
  OUTAGE_PROBE_MAX_MS,
  RESCAN_CLOCK_SLACK_MS,
  STARTUP_PROBE_BASE_MS,
  STOP_CHECK_MS,
  STUCK_REPORT_DELAY_MS,
  SWEEP_MIN_INTERVAL_MS,
  WATCH_SETTLE_MS,
} from "../timing.js";

export const LIVE_PRIORITY = 1;
export const BACKLOG_PRIORITY = 0;

export type WatchDaemonOptions = {
  config: Config;
  gateway: ConvexGateway;
  backend: WatcherBackend;
  log: Logger;
  now?: () => number;
  /** The light probe's pause (tests shorten it). Default BACKEND_PROBE_INTERVAL_MS. */
  probeIntervalMs?: number;
  /** Default BACKEND_PROBE_TIMEOUT_MS. */
  probeTimeoutMs?: number;
  /** Default RESCAN_CLOCK_SLACK_MS (tests that change files within it set 0). */
  rescanClockSlackMs?: number;
};

/** A watched job: when it last showed activity, and its latest result (none before its first reconcile). */
type Active = { lastActivity: number; last?: JobResult };

/** What the rescan stats per job: job.json (replaced by rename at every stage) and the two folders whose entries change. */
const WATCHED_PATHS = ["job.json", "outputs", "trace"] as const;

/**
 * Whether anything the rescan looks at in a job folder changed at or after `since` (epoch ms):
 * ctime, not mtime, since a copy that keeps times (`cp -p`, `rsync -t`) sets mtime back but
 * cannot set ctime. "gone" when the folder is not there; an error other than a missing path
 * counts as a change, so the reconcile meets it and names it.
 */
function changedSince(dir: string, since: number): boolean | "gone" {
  let found = false;
  for (const name of WATCHED_PATHS) {
    try {
      const st = lstatSync(path.join(dir, name), { throwIfNoEntry: false });
      if (st === undefined) continue;
      found = true;
      if (st.ctimeMs >= since) return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOTDIR") continue;
      return true;
    }
  }
  return found ? false : "gone";
}

export class WatchDaemon {
  readonly engine: SyncEngine;
  readonly metrics: DaemonMetrics;
  private readonly active = new Map<string, Active>();
  /** Start-up jobs the triage queued and that have no result yet: bounded by the start-up's back-pressure (two batches ahead). */
  private readonly backlog = new Set<string>();
  /** When the latest complete pass over every job (the start-up, or a rescan) began; wall clock, as file times are. */
  private passStartedAt: number | null = null;
  private rescanning = false;
  private readonly firstDirtyAt = new Map<string, number>();
  private readonly debounced = new Map<string, { timer: NodeJS.Timeout; firstAt: number }>();
  private readonly followUps = new Set<NodeJS.Timeout>();
  private ready = false;
  private stopping = false;
  /** Aborted by `stop`: ends every wait of the start-up. */
  private readonly halt = new AbortController();
  /** What the latest look at the deployment saw; null until the first one answers or fails. */
  private backendAnswers: boolean | null = null;
  /** The probe saw a refusal (said once per streak). */
  private probeRefused = false;
  private readonly probe: ReachabilityProbe;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stuckWrite: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private health: HealthServer | null = null;
  private startupDone: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: WatchDaemonOptions) {
    this.now = opts.now ?? Date.now;
    this.engine = new SyncEngine({ config: opts.config, gateway: opts.gateway, log: opts.log, mode: "watch" });
    this.metrics = createMetrics({
      queue: () => this.engine.queue.stats(),
      watchedJobs: () => this.active.size,
      stuckJobs: () => this.engine.stuck.size,
      backendUp: () => this.backendUp,
      ready: () => this.ready,
    });
    this.probe = new ReachabilityProbe({
      check: () => this.engine.deployment.check({ reportFatal: false }),
      intervalMs: opts.probeIntervalMs ?? BACKEND_PROBE_INTERVAL_MS,
      timeoutMs: opts.probeTimeoutMs ?? BACKEND_PROBE_TIMEOUT_MS,
      onLook: (answers, result) => this.onProbe(answers, result),
    });
    this.engine.on("result", (jobId: string, r: JobResult) => this.onResult(jobId, r));
    this.engine.on("failed", (_jobId: string, err: SyncError) => this.metrics.failures.inc({ code: err.code }));
    this.engine.on("backend", (down: boolean) => (this.backendAnswers = !down));
    this.engine.on("internal", () => this.metrics.internalErrors.inc());
    this.engine.on("marker", () => this.metrics.markersWritten.inc());
    this.engine.on("uploaded", (bytes: number) => {
      this.metrics.filesUploaded.inc();
      this.metrics.bytesUploaded.inc(bytes);
    });
    this.engine.on("stuck", () => this.onStuckChanged());
    this.engine.on("unstuck", () => this.onStuckChanged());
  }

  /** The deployment answered its latest look (`backend_up`, the second half of `/readyz`). */
  get backendUp(): boolean {
    return this.backendAnswers === true;
  }

  /** A look of the light probe; a change is logged once the start-up (which logs its own) is done. */
  private onProbe(answers: boolean, result: ProbeResult | null): void {
    const { log } = this.opts;
    if (this.backendAnswers !== answers && this.ready) {
      if (answers) log.info("the deployment answers again");
      else if (result?.answers === false)
        log.warn({ code: result.error.code }, `the deployment does not answer (${result.error.describe()})`);
      else log.warn({ code: "TIMEOUT" }, "the deployment does not answer (no reply within the probe's timeout)");
    }
    const refusal = result?.answers === true ? result.refusal : undefined;
    if (refusal && !this.probeRefused) {
      log.warn(
        { code: refusal.code },
        `the deployment refuses the daemon's check (${refusal.describe()}); jobs' own calls decide whether that stops the daemon`,
      );
    }
    this.probeRefused = refusal !== undefined;
    this.backendAnswers = answers;
  }

  /** The report for `status` once the list of stuck jobs has been quiet for a moment. */
  private onStuckChanged(): void {
    if (this.stuckWrite) return;
    this.stuckWrite = setTimeout(() => {
      this.stuckWrite = null;
      this.writeStuck();
    }, STUCK_REPORT_DELAY_MS);
  }

  private writeStuck(): void {
    const entries = [...this.engine.stuck].map(([jobId, e]) => ({ jobId, code: e.code, reason: e.describe() }));
    try {
      writeStuckReport(this.opts.config.jobsDir, entries);
    } catch (e) {
      this.opts.log.warn({ err: (e as Error).message }, "the stuck-jobs report for `status` could not be written");
    }
  }

  get isReady(): boolean {
    return this.ready;
  }

  get watchedJobs(): number {
    return this.active.size;
  }

  /** Starts watching and the start-up reconcile; resolves once events flow (not when start-up ends). */
  async start(): Promise<{ healthPort: number | null }> {
    const { config, backend, log } = this.opts;
    if (config.healthPort !== undefined) {
      this.health = await startHealthServer(config.healthPort, this.metrics.registry, {
        ready: () => this.ready,
        backendUp: () => this.backendUp,
      });
      log.info({ port: this.health.port }, "health and metrics on 127.0.0.1");
    }
    backend.onEvent((e) => this.onEvent(e));
    backend.onError((e) => void this.onWatchError(e));
    await backend.start(config.jobsDir, { ignored: (p) => jobIdOfPath(config.jobsDir, p) === null });

    this.sweepTimer = setInterval(() => this.sweep(), Math.max(SWEEP_MIN_INTERVAL_MS, Math.floor(config.watch.activeWindowMs / 4)));
    if (config.watch.rescanIntervalMs > 0) {
      this.rescanTimer = setInterval(() => void this.rescan(), config.watch.rescanIntervalMs);
    }
    this.probe.start();
    this.startupDone = this.startup();
    return { healthPort: this.health?.port ?? null };
  }

  /** Resolves when the start-up reconcile of everything on disk has finished. */
  whenReady(): Promise<void> {
    return this.startupDone;
  }

  private async startup(): Promise<void> {
    const { config, log } = this.opts;
    const started = this.now();
    await this.untilDeploymentAnswers();
    if (this.stopping || this.engine.fatal) return;
    const passStarted = Date.now();
    log.info("start-up reconcile of every job on disk");
    let jobs = 0;
    const batches = async function* (jobsDir: string, size: number) {
      for await (const batch of jobIdBatches(jobsDir, size)) {
        jobs += batch.length;
        yield batch;
      }
    };
    // Live events (priority 1) go ahead of this backlog, which is never long.
    await this.engine.checkAll(batches(config.jobsDir, config.stateBatchSize), BACKLOG_PRIORITY, this.halt.signal, (id) =>
      this.backlog.add(id),
    );
    await this.untilBacklogDone();
    if (this.stopping) return;
    this.passStartedAt = passStarted;
    this.ready = true;
    log.info({ jobs, ms: this.now() - started, watched: this.active.size }, "start-up reconcile done; watching");
  }

  /**
   * A deployment that does not answer or is not running at start is "not ready yet", never a
   * reason to exit: the daemon keeps running (events are watched, /readyz says not ready), asks
   * again with a growing pause of at most OUTAGE_PROBE_MAX_MS, and starts as soon as it answers.
   * A deployment that answers with a refusal is the engine's fatal error (exit 2).
   */
  private async untilDeploymentAnswers(): Promise<void> {
    const { log } = this.opts;
    let waited = false;
    for (let attempt = 1; !this.stopping; attempt++) {
      const result = await this.engine.deployment.check();
      this.backendAnswers = result.answers;
      if (result.answers) {
        const { info } = result;
        if (info)
          log.info(
            { convexUrl: this.opts.config.convexUrl, apiVersion: info.apiVersion, clockSkewMs: Math.round(info.clockSkewMs) },
            "deployment ok",
          );
        break;
      }
      if (!waited) {
        log.warn(
          { code: result.error.code },
          `Convex not ready yet (${result.error.describe()}); the daemon keeps running and starts syncing as soon as it answers`,
        );
      }
      waited = true;
      const pause = backoffDelay(attempt, { baseMs: STARTUP_PROBE_BASE_MS, maxMs: OUTAGE_PROBE_MAX_MS }, () => 1);
      await sleep(pause, undefined, { signal: this.halt.signal }).catch(() => undefined);
    }
    if (waited) log.info("Convex answers: starting");
  }

  /** Waits until every job the start-up queued has a result (or the daemon stops). */
  private async untilBacklogDone(): Promise<void> {
    if (this.backlog.size === 0) return;
    await new Promise<void>((resolve) => {
      const onResult = () => {
        if (this.backlog.size === 0 || this.stopping) done();
      };
      const done = () => {
        this.engine.off("result", onResult);
        clearInterval(check);
        resolve();
      };
      // Jobs that give up or vanish also end as results; the interval only notices a stop.
      const check = setInterval(() => {
        if (this.stopping) done();
      }, STOP_CHECK_MS);
      this.engine.on("result", onResult);
    });
  }

  private onEvent(e: WatchEvent): void {
    if (this.stopping) return;
    const jobId = jobIdOfPath(this.opts.config.jobsDir, e.path);
    if (jobId === null) return;
    const isJobFolder = path.dirname(e.path) === this.opts.config.jobsDir;
    if (isJobFolder && e.kind === "unlinkDir") {
      this.deactivate(jobId);
      return;
    }
    if (isJobFolder && e.kind !== "addDir") return; // files directly in jobs/ are not jobs
    if (!this.firstDirtyAt.has(jobId)) this.firstDirtyAt.set(jobId, this.now());
    // Watch first, then reconcile: whatever was written before the watch existed is read anyway.
    this.activate(jobId);
    this.debounce(jobId);
    // A new folder inside a job (trace/, outputs/) is being watched from now on, and a file
    // written into it before that watch is in place raises no event: look once more then.
    if (!isJobFolder && e.kind === "addDir") this.followUp(jobId);
  }

  /**
   * A watch takes a moment to be in place; writes in that moment raise no event. One cheap
   * re-check once it surely is (a stat and a batched state read when nothing changed), unless a
   * run is owed or under way then anyway (it reads everything).
   */
  private followUp(jobId: string): void {
    const timer = setTimeout(() => {
      this.followUps.delete(timer);
      if (!this.stopping && !this.debounced.has(jobId) && !this.engine.queue.isBusy(jobId)) {
        this.engine.enqueue(jobId, LIVE_PRIORITY);
      }
    }, WATCH_SETTLE_MS);
    this.followUps.add(timer);
  }

  /**
   * Trailing debounce: each event pushes the job's reconcile `debounceMs` later, so a burst of
   * rewrites is read once, after it ends; a job that never stops changing is still queued every
   * DEBOUNCE_MAX_WAIT_MS.
   */
  private debounce(jobId: string): void {
    const wait = this.opts.config.watch.debounceMs;
    const now = this.now();
    const pending = this.debounced.get(jobId);
    if (pending) {
      clearTimeout(pending.timer);
      if (now - pending.firstAt >= DEBOUNCE_MAX_WAIT_MS) {
        this.debounced.delete(jobId);
        this.engine.enqueue(jobId, LIVE_PRIORITY);
        return;
      }
    }
    const firstAt = pending?.firstAt ?? now;
    const timer = setTimeout(() => {
      this.debounced.delete(jobId);
      this.engine.enqueue(jobId, LIVE_PRIORITY);
    }, wait);
    this.debounced.set(jobId, { timer, firstAt });
  }

  private activate(jobId: string): void {
    const entry = this.active.get(jobId);
    if (entry) {
      entry.lastActivity = this.now();
      // Map order is recency order: move to the end.
      this.active.delete(jobId);
      this.active.set(jobId, entry);
      return;
    }
    this.active.set(jobId, { lastActivity: this.now() });
    this.opts.backend.watchJob(path.join(this.opts.config.jobsDir, jobId));
    this.followUp(jobId);
    while (this.active.size > this.opts.config.watch.maxWatchedJobs) {
      const oldest = this.active.keys().next().value as string;
      this.deactivate(oldest);
    }
  }

  private deactivate(jobId: string): void {
    if (!this.active.delete(jobId)) return;
    this.opts.backend.unwatchJob(path.join(this.opts.config.jobsDir, jobId));
  }

  private onResult(jobId: string, r: JobResult): void {
    this.backlog.delete(jobId);
    this.metrics.reconciles.inc({ outcome: r.status });
    const first = this.firstDirtyAt.get(jobId);
    this.firstDirtyAt.delete(jobId);
    if (r.status === "synced" || r.status === "in-sync") {
      this.metrics.lastSuccess.set(this.now() / 1000);
      if (first !== undefined && r.status === "synced") this.metrics.syncLatency.observe((this.now() - first) / 1000);
    }
    if (r.status === "gone") {
      this.deactivate(jobId);
      return;
    }
    // Jobs the pipeline is still working on stay watched; so do jobs that changed recently
    // (the trace lands after the final record).
    if (r.final === false) this.activate(jobId);
    else if (!this.active.has(jobId) && this.ready === false) {
      // start-up: a settled job that was written recently may still get its trace
      if (this.recentlyChanged(jobId)) this.activate(jobId);
    }
    const watched = this.active.get(jobId);
    if (watched !== undefined) watched.last = r;
  }

  /**
   * Synchronous: it runs for every job of the start-up pass, and
   * a promise and a Stats object in flight per job would outlive the young generation.
   */
  private recentlyChanged(jobId: string): boolean {
    try {
      const s = statSync(path.join(this.opts.config.jobsDir, jobId, "job.json"), { throwIfNoEntry: false });
      return s !== undefined && this.now() - s.mtimeMs < this.opts.config.watch.activeWindowMs;
    } catch {
      return false;
    }
  }

  /** Unwatches settled jobs that have been quiet for the active window. */
  private sweep(): void {
    const cutoff = this.now() - this.opts.config.watch.activeWindowMs;
    for (const [jobId, a] of this.active) {
      if (a.lastActivity > cutoff) continue;
      const r = a.last;
      const busy = this.engine.queue.isBusy(jobId);
      if (busy) continue;
      if (r === undefined || r.status === "pending" || r.final === false) continue;
      this.deactivate(jobId);
    }
  }

  /**
   * The safety net: every job changed since the previous pass began (see `changedSince`),
   * every watched job (a file rewritten in place changes no ctime the rescan looks at) and
   * every stuck one is queued behind live work. Waits for the start-up, which is itself a pass;
   * one rescan at a time.
   */
  async rescan(): Promise<number> {
    if (this.stopping || this.rescanning || this.passStartedAt === null) return 0;
    this.rescanning = true;
    const started = Date.now();
    const since = this.passStartedAt - (this.opts.rescanClockSlackMs ?? RESCAN_CLOCK_SLACK_MS);
    const jobsDir = this.opts.config.jobsDir;
    let queued = 0;
    let seen = 0;
    const slice = new TimeSlice();
    try {
      for await (const jobId of eachJobId(jobsDir)) {
        if (this.stopping) return queued;
        seen++;
        if (slice.due()) await slice.yield();
        const changed = this.active.has(jobId) || this.engine.stuck.has(jobId) || changedSince(path.join(jobsDir, jobId), since);
        if (changed === true) {
          this.engine.enqueue(jobId, BACKLOG_PRIORITY);
          queued++;
        }
      }
      this.passStartedAt = started;
    } finally {
      this.rescanning = false;
    }
    this.opts.log.info({ jobs: seen, queued, ms: Date.now() - started }, "rescan done");
    return queued;
  }

  private async onWatchError(e: Error): Promise<void> {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EMFILE") {
      if (this.opts.backend.polling) return;
      this.opts.log.error(
        { code },
        code === "ENOSPC"
          ? "the inotify watch limit is reached: falling back to polling (slower, but no change is missed). Raise it with: sudo sysctl fs.inotify.max_user_watches=524288 (and persist it in /etc/sysctl.d/)"
          : "too many open files for watching: falling back to polling. Raise the limit (LimitNOFILE= in the systemd unit, or ulimit -n)",
      );
      await this.opts.backend.fallBackToPolling();
      void this.rescan();
      return;
    }
    // The file system's answer (EACCES, ELOOP, …), in one line: not a bug, no stack.
    this.opts.log.warn({ code: (e as NodeJS.ErrnoException).code, err: (e as Error).message }, "watcher error");
  }

  /** Stops events, drains the queue within the deadline, closes everything. */
  async stop(deadlineMs: number): Promise<{ abandoned: string[] }> {
    if (this.stopping) return { abandoned: [] };
    this.stopping = true;
    this.halt.abort();
    this.probe.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    for (const { timer } of this.debounced.values()) clearTimeout(timer);
    this.debounced.clear();
    for (const t of this.followUps) clearTimeout(t);
    this.followUps.clear();
    await this.opts.backend.close();
    const result = await this.engine.close(deadlineMs);
    // Nobody retries them once the daemon is gone: the report would only mislead `status`.
    if (this.stuckWrite) clearTimeout(this.stuckWrite);
    this.stuckWrite = null;
    writeStuckReport(this.opts.config.jobsDir, []);
    await this.health?.close();
    return result;
  }
}
