/**
 * Prometheus metrics of the daemon, through prom-client, on a registry of its own (so tests
 * and several daemons in one process never share counters).
 *
 * Counters are incremented where the work happens (the daemon forwards the engine's events).
 * Gauges of state (queue depth, watched and stuck jobs, backend up, ready) are read from their
 * owners at scrape time through `collect`, so a scrape never shows a value left over from the
 * last event: an idle daemon reads 0 running, whatever ran last. Owns no state of its own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import pkg from "../../package.json" with { type: "json" };
import { API_VERSION } from "../../convex/lib/apiVersion.js";

/** What the gauges read at scrape time. */
export type MetricSources = {
  queue: () => { queued: number; running: number; backingOff: number };
  watchedJobs: () => number;
  stuckJobs: () => number;
  /** The deployment answered the last look at it (the probe's, the start-up's or a job's). */
  backendUp: () => boolean;
  /** The start-up reconcile is done. */
  ready: () => boolean;
};

export type DaemonMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  // Node's process and runtime metrics under their conventional names (process_cpu_seconds_total,
  // nodejs_eventloop_lag_seconds, …), so stock dashboards and alerts find them. The event-loop
  // lag histogram samples every 10 ms by default: about 0.7 % of a core on an idle daemon.
  // 100 ms resolution is plenty for a sync daemon's lag.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  const m = {
    registry,
    buildInfo: new Gauge({
      name: "celstate_sync_build_info",
      help: "Always 1; the labels say which celstate-sync runs and which sync API it speaks",
      registers,
      labelNames: ["version", "api_version"] as const,
    }),
    queueDepth: new Gauge({
      name: "celstate_sync_queue_depth",
      help: "Jobs queued, running or backing off (waiting on a timer), read at scrape time",
      registers,
      labelNames: ["state"] as const,
      collect() {
        const q = sources.queue();
        this.set({ state: "queued" }, q.queued);
        this.set({ state: "running" }, q.running);
        this.set({ state: "backing_off" }, q.backingOff);
      },
    }),
    reconciles: new Counter({
      name: "celstate_sync_reconciles_total",
      help: "Reconciles by outcome",
      registers,
      labelNames: ["outcome"] as const,
    }),
    bytesUploaded: new Counter({ name: "celstate_sync_uploaded_bytes_total", help: "Bytes uploaded to Convex storage", registers }),
    filesUploaded: new Counter({ name: "celstate_sync_uploaded_files_total", help: "Files uploaded to Convex storage", registers }),
    failures: new Counter({
      name: "celstate_sync_failures_total",
      help: "Jobs that could not be synced, by error code",
      registers,
      labelNames: ["code"] as const,
    }),
    syncLatency: new Histogram({
      name: "celstate_sync_latency_seconds",
      help: "Time from the first local change seen to the commit that carried it",
      registers,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    lastSuccess: new Gauge({
      name: "celstate_sync_last_success_timestamp_seconds",
      help: "Unix time of the last successful reconcile (0: none yet)",
      registers,
    }),
    watchedJobs: new Gauge({
      name: "celstate_sync_watched_jobs",
      help: "Job folders watched now",
      registers,
      collect() {
        this.set(sources.watchedJobs());
      },
    }),
    backendUp: new Gauge({
      name: "celstate_sync_backend_up",
      help: "1 if the Convex deployment answered the daemon's last look at it (a probe every few seconds)",
      registers,
      collect() {
        this.set(sources.backendUp() ? 1 : 0);
      },
    }),
    ready: new Gauge({
      name: "celstate_sync_ready",
      help: "1 once the start-up reconcile is done",
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    }),
    internalErrors: new Counter({
      name: "celstate_sync_internal_errors_total",
      help: "Errors nobody classified (bugs, ours or the deployment's): retried, never marked",
      registers,
    }),
    stuckJobs: new Gauge({
      name: "celstate_sync_stuck_jobs",
      help: "Jobs still failing past the retry limits for errors that are not their own (retried, never marked)",
      registers,
      collect() {
        this.set(sources.stuckJobs());
      },
    }),
    markersWritten: new Counter({ name: "celstate_sync_markers_written_total", help: "Failure markers written into job.json", registers }),
  };
  m.buildInfo.set({ version: pkg.version, api_version: String(API_VERSION) }, 1);
  return m;
}
