/** Every sample name the daemon's registry exports (createMetrics, as the daemon builds it). */
import { createMetrics } from "../../src/watch/metrics.js";
import { exportedNames } from "../helpers/metricsText.js";

/** Prometheus' own series for every target, which the rules may read too. */
export const PROMETHEUS_SERIES = new Set(["up"]);

export async function daemonExposition(): Promise<string> {
  const m = createMetrics({
    queue: () => ({ queued: 1, running: 1, backingOff: 1 }),
    watchedJobs: () => 1,
    stuckJobs: () => 0,
    backendUp: () => true,
    ready: () => true,
  });
  m.syncLatency.observe(0.2);
  return await m.registry.metrics();
}

export async function daemonMetricNames(): Promise<Set<string>> {
  return exportedNames(await daemonExposition());
}
