/**
 * Every size and duration the scenarios use, full and quick. Full is the figures; quick
 * is small enough for CI (tens of seconds) and exercises every code path and check.
 */
export type BenchSizes = {
  /** Finished jobs for the backfill and no-op scenarios (~3.5 files each, PNGs 32–256 KiB). */
  backfillJobs: number;
  /** Added latency per request, ms, for the backfill comparison. */
  latenciesMs: number[];
  /**
   * A small backfill, where what does not depend on the data (process start-up, the round trips
   * before the first upload) weighs most: its jobs, at this added latency.
   */
  smallBackfill: { jobs: number; latencyMs: number };
  /**
   * Jobs the seed's flow is timed over, per latency. It is strictly sequential, so its jobs/s
   * over a subset is its jobs/s; the full 1,000 at 25 ms would take five minutes a run.
   */
  seedFlowJobs: (latencyMs: number) => number;
  /** Small in-sync jobs for the no-op re-check and the at-rest scenario. */
  tinyJobs: number;
  activeJobs: number;
  idleMs: number;
  liveJobsPerSecond: number;
  liveMs: number;
  /** One more live phase at a rate the machine sustains, or null. */
  liveLowRate: { jobsPerSecond: number; ms: number } | null;
  largeBytes: number;
  /** History sizes of the scale scenario, grown in place from one to the next. */
  scaleJobs: number[];
  /** The scale scenario's rescan interval: short, so rescans of the whole history run nearly back to back. */
  scaleRescanEveryMs: number;
  /** The scale scenario's live phase (at liveJobsPerSecond) during those rescans. */
  scaleLiveMs: number;
};

export const FULL_SIZES: BenchSizes = {
  backfillJobs: 1000,
  latenciesMs: [0, 25],
  smallBackfill: { jobs: 100, latencyMs: 25 },
  seedFlowJobs: (latencyMs) => (latencyMs === 0 ? 150 : 60),
  tinyJobs: 50_000,
  activeJobs: 20,
  idleMs: 60_000,
  liveJobsPerSecond: 20,
  liveMs: 60_000,
  liveLowRate: { jobsPerSecond: 5, ms: 30_000 },
  largeBytes: 1024 * 1024 * 1024,
  scaleJobs: [50_000, 200_000, 1_000_000],
  scaleRescanEveryMs: 15_000,
  scaleLiveMs: 30_000,
};

/** Overrides for exploring (not for reports): BENCH_LIVE_MS, BENCH_LIVE_RATE. */
export function withEnvOverrides(sizes: BenchSizes, env: NodeJS.ProcessEnv = process.env): BenchSizes {
  return {
    ...sizes,
    ...(env.BENCH_LIVE_MS ? { liveMs: Number(env.BENCH_LIVE_MS) } : {}),
    ...(env.BENCH_LIVE_RATE ? { liveJobsPerSecond: Number(env.BENCH_LIVE_RATE) } : {}),
  };
}

export const QUICK_SIZES: BenchSizes = {
  backfillJobs: 20,
  latenciesMs: [0, 25],
  smallBackfill: { jobs: 8, latencyMs: 25 },
  seedFlowJobs: () => 5,
  tinyJobs: 300,
  activeJobs: 3,
  idleMs: 2_000,
  liveJobsPerSecond: 10,
  liveMs: 2_000,
  liveLowRate: null,
  largeBytes: 8 * 1024 * 1024,
  scaleJobs: [3_000],
  scaleRescanEveryMs: 1_000,
  scaleLiveMs: 2_000,
};
