/**
 * Scenario 3, live latency: while `celstate-sync watch` runs, the pipeline writer starts jobs at
 * a steady rate and takes each through every stage (queued → running → processing with outputs
 * written in place → succeeded → trace), with short random pauses between stages. For every
 * job.json rename: the time until the deployment committed that state or a newer one of the
 * same job (see renameLatencies.ts). Both clocks are this machine's Date.now(). At the end,
 * every job must be in the deployment exactly as on disk: no final state lost.
 *
 * The issue's rate is measured `runs` times; one more, shorter phase at a lower rate shows the
 * latency when the machine is not saturated, which separates the design's latency from its
 * CPU cost per job.
 */
import { cpus } from "node:os";
import { CheckList } from "../CheckList.js";
import { CelstateSyncProcess } from "../CelstateSyncProcess.js";
import type { BenchStandin } from "../BenchStandin.js";
import { type Rename, STAGE_PAUSE_MS, writeLiveJobs } from "../LiveJob.js";
import { readProcSnapshot } from "../procStats.js";
import { RandomSource } from "../randomSource.js";
import { renameLatencies } from "../renameLatencies.js";
import { healthPortOf, metricTotal, scrapeMetrics } from "../scrapeMetrics.js";
import { type BenchContext, type Goal, metric, type Metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median, percentile } from "../summarize.js";
import { verifyMirrored } from "../verifyMirrored.js";

/**
 * The tail is measured over the whole run, the daemon's first seconds included (its code is
 * not optimised yet); the p99 after this many seconds is shown beside it, to tell the start
 * from the steady state.
 */
const WARM_UP_S = 10;

/** How long the stand-in serves the same workload before each measured run (see warmStandin). */
const STANDIN_WARM_UP_MS = 10_000;

const STAGES = ["initialized", "generating_passes", "processing_matting", "completed"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The metrics of one rate; `goals` only for the issue's rate. */
function phaseMetrics(rate: number, goals: boolean) {
  const at = `${rate} jobs/s`;
  const goal = (g: Goal) => (goals ? g : undefined);
  return {
    p50: metric(`p50 rename → commit, ${at}`, "ms", goal({ op: "<", value: 100, text: "< 100 ms" }), 0),
    p90: metric(`p90 rename → commit, ${at}`, "ms", undefined, 0),
    p99: metric(`p99 rename → commit, ${at}`, "ms", goal({ op: "<", value: 100, text: "< 100 ms" }), 0),
    max: metric(`max rename → commit, ${at}`, "ms", undefined, 0),
    p99Late: metric(`p99 rename → commit after the daemon's first ${WARM_UP_S} s (half the run if shorter), ${at}`, "ms", undefined, 0),
    stageP50: new Map(STAGES.map((st) => [st, metric(`p50 for the \`${st}\` rename, ${at}`, "ms", undefined, 0)])),
    exactShare: metric(`renames committed as themselves (not only via a newer state), ${at}`, "%", undefined, 1),
    lost: metric(`final states lost, ${at}`, "jobs", { op: "<=", value: 0, text: "zero" }, 0),
    reconcilesPerJob: metric(`reconciles per job (the daemon's own counter), ${at}`, "", undefined, 1),
    commitsPerJob: metric(`commits per job, ${at}`, "", undefined, 1),
    achieved: metric(`jobs started per second (achieved), ${at}`, "jobs/s", undefined, 1),
    catchUp: metric(`time the daemon needed after the writer stopped, ${at}`, "s", undefined, 1),
    cores: metric(`CPU of the celstate-sync process, ${at}`, "cores", undefined, 2),
    cpuPerJob: metric(`celstate-sync CPU per job, ${at}`, "ms", undefined, 0),
    standinCores: metric(`CPU of the stand-in, ${at}`, "cores", undefined, 2),
    writerCores: metric(`CPU of the writer (the benchmark process), ${at}`, "cores", undefined, 2),
    peak: metric(`celstate-sync peak RSS, ${at}`, "MB", undefined, 0),
  };
}

type PhaseMetrics = ReturnType<typeof phaseMetrics>;

function flatten(m: PhaseMetrics): Metric[] {
  const { stageP50, ...rest } = m;
  const list = Object.values(rest);
  return [...list.slice(0, 5), ...stageP50.values(), ...list.slice(5)];
}

/**
 * The deployment is a server that has been answering for a while, not a process that starts
 * with each benchmark run: the stand-in's code is warmed by the same workload through a daemon
 * of its own, then the stand-in is reset. The measured daemon starts cold, as after a restart.
 */
async function warmStandin(ctx: BenchContext, standin: BenchStandin, rate: number): Promise<void> {
  await standin.reset();
  const jobsDir = await ctx.fixtures.tempDir("live-warm-up");
  const p = await CelstateSyncProcess.spawn(["watch"], { url: standin.url, token: ctx.token, jobsDir });
  try {
    await p.waitForLog("start-up reconcile done", 60_000);
    await writeLiveJobs(jobsDir, rate, ctx.quick ? 1_000 : STANDIN_WARM_UP_MS, new RandomSource(7), []);
    await sleep(1_000);
  } finally {
    await p.stop();
  }
  await standin.reset();
}

/** One daemon, one writer at `rate` for `durationMs`, then the catch-up and the checks. */
async function livePhase(
  ctx: BenchContext,
  standin: BenchStandin,
  rate: number,
  durationMs: number,
  seed: number,
  m: PhaseMetrics,
  checks: CheckList,
): Promise<void> {
  await warmStandin(ctx, standin, rate);
  const jobsDir = await ctx.fixtures.tempDir("live");
  // Default log level (info), as in production: a log line per commit is part of the cost.
  const p = await CelstateSyncProcess.spawn(["watch", "--health-port", "0"], { url: standin.url, token: ctx.token, jobsDir });
  try {
    const port = await healthPortOf(p);
    await p.waitForLog("start-up reconcile done", 60_000);
    const cpu0 = await readProcSnapshot(p.pid);
    const standinCpu0 = await readProcSnapshot(standin.pid);
    const writerCpu0 = process.cpuUsage();
    ctx.log(`writing ${rate} jobs/s for ${durationMs / 1000} s …`);
    const renames: Rename[] = [];
    const t0 = Date.now();
    const jobs = await writeLiveJobs(jobsDir, rate, durationMs, new RandomSource(seed), renames);
    m.achieved.values.push(jobs.length / ((Date.now() - t0) / 1000));
    const cpu1 = await readProcSnapshot(p.pid);
    const standinCpu1 = await readProcSnapshot(standin.pid);
    const writerCpu = process.cpuUsage(writerCpu0);
    const spanMs = cpu1.atMs - cpu0.atMs;
    m.cores.values.push((cpu1.cpuMs - cpu0.cpuMs) / spanMs);
    m.standinCores.values.push((standinCpu1.cpuMs - standinCpu0.cpuMs) / spanMs);
    m.writerCores.values.push((writerCpu.user + writerCpu.system) / 1000 / spanMs);

    // Let the daemon catch up: until its commits stop coming for a while, then compare the
    // deployment with the disk (and wait again if something is still missing).
    const quietMs = ctx.quick ? 2_000 : 10_000;
    const ids = jobs.map((j) => j.id);
    const writerDone = Date.now();
    let lastCommitAt = writerDone;
    let verdict = { mirrored: 0, problems: ["not checked yet"] };
    for (let pass = 0; pass < 5 && verdict.problems.length > 0; pass++) {
      let count = -1;
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs) {
        await sleep(500);
        const n = (await standin.stats()).functionCalls["sync:commit"] ?? 0;
        if (n !== count) {
          count = n;
          quietSince = Date.now();
          lastCommitAt = Date.now();
        }
      }
      verdict = await verifyMirrored({ url: standin.url, token: ctx.token, jobsDir, jobIds: ids });
    }
    m.catchUp.values.push(Math.max(0, lastCommitAt - writerDone) / 1000);
    const cpuEnd = await readProcSnapshot(p.pid);
    m.cpuPerJob.values.push((cpuEnd.cpuMs - cpu0.cpuMs) / ids.length);
    m.lost.values.push(ids.length - verdict.mirrored);
    checks.expect(
      "zero final states lost (record, every file and the trace, by sha256)",
      verdict.problems.length === 0,
      verdict.problems.slice(0, 3).join("; ") || `${verdict.mirrored}/${ids.length} jobs mirrored`,
    );
    const commits = await standin.commits();
    const counters = await scrapeMetrics(port);
    m.reconcilesPerJob.values.push(metricTotal(counters, "celstate_sync_reconciles_total") / ids.length);
    m.commitsPerJob.values.push(commits.length / ids.length);

    const { latencies, byStage, exact, unmatched } = renameLatencies(renames, commits);
    checks.expect(
      "every job.json rename reached the deployment (itself or a newer state)",
      unmatched.length === 0,
      `${unmatched.length} of ${renames.length} renames without a commit`,
    );
    m.p50.values.push(percentile(latencies, 50));
    m.p90.values.push(percentile(latencies, 90));
    m.p99.values.push(percentile(latencies, 99));
    m.max.values.push(Math.max(...latencies));
    const settledFrom = t0 + Math.min(WARM_UP_S * 1000, durationMs / 2);
    m.p99Late.values.push(
      percentile(
        renameLatencies(
          renames.filter((r) => r.atMs >= settledFrom),
          commits,
        ).latencies,
        99,
      ),
    );
    for (const [st, sm] of m.stageP50) sm.values.push(percentile(byStage.get(st) ?? [], 50));
    m.exactShare.values.push((exact / renames.length) * 100);
  } finally {
    const { code } = await p.stop();
    m.peak.values.push(p.sampler.peakHwmBytes / 1e6);
    checks.expect("watch stops on SIGTERM with exit code 0", code === 0, `exit ${code}`);
    checks.expect("the daemon logged no error", p.errorLines.length === 0, p.errorLines[0] ?? "none");
  }
}

export const liveScenario: Scenario = {
  id: "live",
  title: "Live latency",
  defaultRuns: 2,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const checks = new CheckList();
    const notes: string[] = [];
    const { liveJobsPerSecond: rate, liveMs, liveLowRate } = ctx.sizes;
    const standin = await ctx.fixtures.standin(0);

    const main = phaseMetrics(rate, true);
    for (let run = 1; run <= ctx.runs; run++) {
      ctx.log(`run ${run} at ${rate} jobs/s:`);
      await livePhase(ctx, standin, rate, liveMs, 1000 + run, main, checks);
    }
    const low = liveLowRate === null ? null : phaseMetrics(liveLowRate.jobsPerSecond, false);
    if (low !== null && liveLowRate !== null) {
      ctx.log(`one run at ${liveLowRate.jobsPerSecond} jobs/s:`);
      await livePhase(ctx, standin, liveLowRate.jobsPerSecond, liveLowRate.ms, 2000, low, checks);
    }
    await standin.reset();

    if (median(main.p50.values) >= 100 || median(main.p99.values) >= 100) {
      notes.push(
        `Latency goal missed at ${rate} jobs/s (p50 ${median(main.p50.values).toFixed(0)} ms, p99 ${median(main.p99.values).toFixed(0)} ms): the daemon needs ${median(main.cpuPerJob.values).toFixed(0)} ms of CPU per job, the stand-in and the writer share the same ${cpus().length} cores, so work queues up. See the analysis below the tables.`,
      );
    }
    const setup = [
      `\`celstate-sync watch\` (default settings: 20 ms debounce, 100 ms settle time for files, log level info) on an empty folder; the writer starts ${rate} jobs/s for ${liveMs / 1000} s (${Math.round((rate * liveMs) / 1000)} jobs, ${STAGE_PAUSE_MS.min}–${STAGE_PAUSE_MS.max} ms between stages, PNGs 32–256 KiB written in place in 64 KiB chunks, a mask on half the jobs), ${ctx.runs}×${liveLowRate ? `; then once at ${liveLowRate.jobsPerSecond} jobs/s for ${liveLowRate.ms / 1000} s` : ""}. Latency is measured for every job.json rename (4 a job) to the first commit of that state or a newer one. Before each run the stand-in serves the same workload for ${STANDIN_WARM_UP_MS / 1000} s through a daemon of its own and is then reset, as a deployment is a server that has been answering for a while; the measured daemon starts cold, as after a restart.`,
    ];
    return {
      id: "live",
      title: this.title,
      setup,
      metrics: [...flatten(main), ...(low ? flatten(low) : [])],
      checks: checks.all,
      notes,
      durationMs: Date.now() - started,
    };
  },
};
