/**
 * Prometheus metrics of the daemon, through prom-client, on a registry of its own (so tests
 * and several daemons in one process never share counters).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type DaemonMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  // The event-loop lag histogram samples every 10 ms by default: about 0.7 % of a core on
  // an idle daemon. 100 ms resolution is plenty for a sync daemon's lag.
  collectDefaultMetrics({ register: registry, prefix: "celstate_sync_process_", eventLoopMonitoringPrecision: 100 });
  const m = {
    registry,
    queueDepth: new Gauge({ name: "celstate_sync_queue_depth", help: "Jobs queued, running or backing off", registers: [registry], labelNames: ["state"] as const }),
    reconciles: new Counter({ name: "celstate_sync_reconciles_total", help: "Reconciles by outcome", registers: [registry], labelNames: ["outcome"] as const }),
    bytesUploaded: new Counter({ name: "celstate_sync_uploaded_bytes_total", help: "Bytes uploaded to Convex storage", registers: [registry] }),
    filesUploaded: new Counter({ name: "celstate_sync_uploaded_files_total", help: "Files uploaded to Convex storage", registers: [registry] }),
    failures: new Counter({ name: "celstate_sync_failures_total", help: "Jobs that could not be synced, by error code", registers: [registry], labelNames: ["code"] as const }),
    syncLatency: new Histogram({
      name: "celstate_sync_latency_seconds",
      help: "Time from the first local change seen to the commit that carried it",
      registers: [registry],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    lastSuccess: new Gauge({ name: "celstate_sync_last_success_timestamp_seconds", help: "Unix time of the last successful reconcile", registers: [registry] }),
    watchedJobs: new Gauge({ name: "celstate_sync_watched_jobs", help: "Job folders watched now", registers: [registry] }),
    backendUp: new Gauge({ name: "celstate_sync_backend_up", help: "1 if the Convex deployment is reachable", registers: [registry] }),
    ready: new Gauge({ name: "celstate_sync_ready", help: "1 once the start-up reconcile is done", registers: [registry] }),
    internalErrors: new Counter({
      name: "celstate_sync_internal_errors_total",
      help: "Errors nobody classified (bugs, ours or the deployment's): retried, never marked",
      registers: [registry],
    }),
    stuckJobs: new Gauge({
      name: "celstate_sync_stuck_jobs",
      help: "Jobs still failing past the retry limits for errors that are not their own (retried, never marked)",
      registers: [registry],
    }),
    markersWritten: new Counter({ name: "celstate_sync_markers_written_total", help: "Failure markers written into job.json", registers: [registry] }),
  };
  m.backendUp.set(1);
  m.ready.set(0);
  return m;
}
