/**
 * Preloaded into a celstate-sync process by the benchmark (`node --import ./bench/loopProbe.js`),
 * inert unless BENCH_LOOP_PROBE_OUT is set: the event loop's delay at 1 ms resolution
 * (`perf_hooks.monitorEventLoopDelay`). On SIGUSR2 it writes the window's longest delay and its
 * p99 (ms, the resolution taken off) to that file as one JSON line, then starts a new window:
 * how the scale scenario measures the longest block during a rescan.
 */
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const out = process.env.BENCH_LOOP_PROBE_OUT;
if (out) {
  const RESOLUTION_MS = 1;
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  process.on("SIGUSR2", () => {
    const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    appendFileSync(out, `${JSON.stringify({ maxMs: ms(histogram.max), p99Ms: ms(histogram.percentile(99)), samples: histogram.count })}\n`);
    histogram.reset();
  });
}
