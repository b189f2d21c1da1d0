/**
 * Scenario 1, backfill throughput: a finished-job history synced into an empty deployment by
 * `celstate-sync backfill` (its own process), next to the seed's one-request-at-a-time flow and
 * the physical floor, at each added latency, all in the same run so ratios are fair. Two
 * histories: the 1,000-job one at every latency, and a small one (100 jobs at 25 ms), where
 * what does not depend on the data (process start-up, the round trips before the first upload)
 * weighs most.
 *
 * Throughput is jobs over the engine's own duration (the summary's `durationMs`, process
 * start-up excluded, as the floor and the seed flow are timed in-process); the process's wall
 * time is reported beside it, and the ratio to the seed flow is given both ways. CPU time per
 * job is the daemon process's, start-up included, next to the floor's (measured in-process
 * around it). Requests are counted by the deployment, not the client.
 */
import { configSchema } from "../../src/config/configSchema.js";
import { countRequests } from "../BenchStandin.js";
import { CheckList } from "../CheckList.js";
import { runBackfillProcess } from "../CelstateSyncProcess.js";
import type { History } from "../Fixtures.js";
import { readProcSnapshot } from "../procStats.js";
import { runFloor } from "../runFloor.js";
import { runSeedFlow } from "../runSeedFlow.js";
import { type BenchContext, type Goal, metric, type Metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median } from "../summarize.js";

const MIB = 1024 * 1024;
/** A wider setting than the default, to show how much of the 25 ms case is waiting. */
const WIDE = 32;

/** One history at one added latency. */
type Case = { history: History; latency: number; at: string; goalVsSeed?: Goal; wide: boolean };

function caseMetrics(c: Case) {
  const { at, latency } = c;
  return {
    cs: metric(`celstate-sync, ${at}`, "jobs/s"),
    csMb: metric(`celstate-sync, ${at}`, "MiB/s"),
    wall: metric(`celstate-sync process wall time, ${at}`, "s", undefined, 2),
    floor: latency === 0 ? metric(`floor, ${at}`, "jobs/s") : undefined,
    seed: metric(`seed flow, ${at}`, "jobs/s", undefined, 2),
    vsSeed: metric(`celstate-sync ÷ seed flow (engine time), ${at}`, "×"),
    vsSeedWall: metric(`celstate-sync ÷ seed flow (process wall time), ${at}`, "×", c.goalVsSeed),
    floorRatio:
      latency === 0
        ? metric(`celstate-sync time ÷ floor time, ${at}`, "×", { op: "<=", value: 2, text: "within 2× of the floor at 0 ms" }, 2)
        : undefined,
    extraReq: metric(
      `requests per job beyond one per uploaded file, ${at}`,
      "req/job",
      { op: "<=", value: 0.2, text: "≤ 0.2 + one per uploaded file" },
      3,
    ),
    commitsPerJob: metric(`commit calls per job (sync:commit + sync:commitMany), ${at}`, "calls/job", undefined, 3),
    cpuPerJob: metric(`CPU time of the celstate-sync process per job (start-up included), ${at}`, "ms/job", undefined, 2),
    floorCpuPerJob: metric(`CPU time of the floor per job, ${at}`, "ms/job", undefined, 2),
    cpuVsFloor: metric(
      `celstate-sync CPU per job ÷ the floor's, ${at}`,
      "×",
      { op: "<=", value: 1.5, text: "within 1.5× of the floor's CPU per job" },
      2,
    ),
    wide: c.wide ? metric(`celstate-sync with concurrency ${WIDE}, ${at} (first run only)`, "jobs/s") : undefined,
    wideVsSeed: c.wide ? metric(`celstate-sync with concurrency ${WIDE} ÷ seed flow, ${at} (first run only)`, "×") : undefined,
    peak: metric(`celstate-sync peak RSS, ${at}`, "MB", undefined, 0),
    csCores: metric(`CPU of the celstate-sync process, ${at}`, "cores", undefined, 2),
    standinCores: metric(`CPU of the stand-in during that backfill, ${at}`, "cores", undefined, 2),
  };
}

type CaseMetrics = ReturnType<typeof caseMetrics>;

async function runCase(ctx: BenchContext, c: Case, m: CaseMetrics, run: number, checks: CheckList, concurrency: number): Promise<void> {
  const { dir, written } = c.history;
  const n = written.jobs.length;
  const standin = await ctx.fixtures.standin(c.latency);
  const target = { url: standin.url, token: ctx.token, jobsDir: dir };

  await standin.reset();
  ctx.log(`run ${run}, ${c.at}: celstate-sync backfill of ${n} jobs …`);
  const standinCpu0 = (await readProcSnapshot(standin.pid)).cpuMs;
  const bf = await runBackfillProcess(target);
  const standinCpuMs = (await readProcSnapshot(standin.pid)).cpuMs - standinCpu0;
  const stats = await standin.stats();
  const req = countRequests(stats);
  const s = bf.summary;
  checks.expect(
    `${n} jobs: backfill exits 0 with every job synced`,
    bf.code === 0 && s.syncedNow === n,
    `exit ${bf.code}, ${s.syncedNow}/${n} synced, ${s.failed.length} failed, ${s.pending.length} pending`,
  );
  checks.expect(
    `${n} jobs: every file uploaded once and committed`,
    s.filesUploaded === written.files &&
      req.uploads === written.files &&
      stats.documents.jobAssets === written.files &&
      stats.documents.jobs === n,
    `${req.uploads} uploads, ${stats.documents.jobAssets} asset rows, ${stats.documents.jobs} job rows for ${written.files} files of ${n} jobs`,
  );
  m.cs.values.push(n / (s.durationMs / 1000));
  m.csMb.values.push(written.bytes / MIB / (s.durationMs / 1000));
  m.wall.values.push(bf.wallMs / 1000);
  m.extraReq.values.push((req.total - req.uploads) / n);
  m.commitsPerJob.values.push(((req.byFunction["sync:commit"] ?? 0) + (req.byFunction["sync:commitMany"] ?? 0)) / n);
  m.cpuPerJob.values.push(bf.cpuMs / n);
  m.peak.values.push(bf.peakRssBytes / 1e6);
  m.csCores.values.push(bf.cpuMs / bf.wallMs);
  m.standinCores.values.push(standinCpuMs / bf.wallMs);

  if (m.wide && run === 1) {
    // The lever for latency: more jobs in flight (CELSTATE_SYNC_CONCURRENCY), same code.
    // One run is enough to show whether the wait or the CPU is the limit.
    await standin.reset();
    ctx.log(`run ${run}, ${c.at}: celstate-sync backfill with concurrency ${WIDE} …`);
    const wide = await runBackfillProcess(target, { CELSTATE_SYNC_CONCURRENCY: String(WIDE) });
    checks.expect(
      `${n} jobs: backfill with concurrency ${WIDE} exits 0 with every job synced`,
      wide.code === 0 && wide.summary.syncedNow === n,
      `exit ${wide.code}, ${wide.summary.syncedNow}/${n} synced`,
    );
    m.wide.values.push(n / (wide.summary.durationMs / 1000));
  }

  // The floor at every latency, for its CPU per job; its rate is the yardstick at 0 ms only
  // (with added latency it measures the latency).
  await standin.reset();
  ctx.log(`run ${run}, ${c.at}: floor …`);
  const cpu0 = process.cpuUsage();
  const floor = await runFloor({ url: standin.url, token: ctx.token, jobs: written.jobs, concurrency });
  const cpu = process.cpuUsage(cpu0);
  checks.expect(`${n} jobs: the floor stores every file`, floor.files === written.files, `${floor.files} of ${written.files}`);
  const floorCpuPerJob = (cpu.user + cpu.system) / 1000 / n;
  m.floorCpuPerJob.values.push(floorCpuPerJob);
  m.cpuVsFloor.values.push(bf.cpuMs / n / floorCpuPerJob);
  if (m.floor && m.floorRatio) {
    m.floor.values.push(n / (floor.ms / 1000));
    m.floorRatio.values.push(s.durationMs / floor.ms);
  }

  await standin.reset();
  const k = Math.min(n, ctx.sizes.seedFlowJobs(c.latency));
  ctx.log(`run ${run}, ${c.at}: seed flow over ${k} jobs …`);
  const seed = await runSeedFlow({ url: standin.url, token: ctx.token, jobsDir: dir, jobIds: written.jobs.slice(0, k).map((j) => j.id) });
  const seedReq = countRequests(await standin.stats());
  checks.expect(
    "the seed flow makes 1 + 3 requests per file, one job at a time",
    seedReq.total === k + 3 * seed.files,
    `${seedReq.total} requests for ${k} jobs and ${seed.files} files`,
  );
  const seedJobsPerS = k / (seed.ms / 1000);
  m.seed.values.push(seedJobsPerS);
  m.vsSeed.values.push(n / (s.durationMs / 1000) / seedJobsPerS);
  // The seed flow is strictly sequential: all n jobs take n times its time per job.
  m.vsSeedWall.values.push(((seed.ms / k) * n) / bf.wallMs);
  if (m.wide && m.wideVsSeed && run === 1) m.wideVsSeed.values.push(m.wide.values.at(-1)! / seedJobsPerS);
}

export const backfillScenario: Scenario = {
  id: "backfill",
  title: "Backfill throughput",
  defaultRuns: 3,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const big = await ctx.fixtures.finishedHistory();
    const small = await ctx.fixtures.smallFinishedHistory();
    const n = big.written.jobs.length;
    const concurrency = configSchema.parse({}).concurrency;
    const checks = new CheckList();
    const notes: string[] = [];
    const { jobs: smallJobs, latencyMs: smallLatency } = ctx.sizes.smallBackfill;
    const cases: Case[] = [
      ...ctx.sizes.latenciesMs.map((latency) => ({
        history: big,
        latency,
        at: `${n} jobs, ${latency} ms`,
        wide: latency > 0,
        ...(latency === 25 ? { goalVsSeed: { op: ">=" as const, value: 40, text: `≥ 40× the seed flow, ${n} jobs at 25 ms` } } : {}),
      })),
      {
        history: small,
        latency: smallLatency,
        at: `${smallJobs} jobs, ${smallLatency} ms`,
        wide: false,
        goalVsSeed: { op: ">=", value: 20, text: `≥ 20× the seed flow, ${smallJobs} jobs at ${smallLatency} ms` },
      },
    ];
    const perCase = cases.map((c) => ({ c, m: caseMetrics(c) }));
    const metrics: Metric[] = perCase.flatMap(({ m }) => Object.values(m).filter((x): x is Metric => x !== undefined));

    for (let run = 1; run <= ctx.runs; run++) {
      for (const { c, m } of perCase) await runCase(ctx, c, m, run, checks, concurrency);
    }
    await ctx.fixtures.standin(0).then((s) => s.reset());

    const describe = (h: History) =>
      `${h.written.jobs.length} finished jobs, ${h.written.files} files (${(h.written.files / h.written.jobs.length).toFixed(2)} a job), ${(h.written.bytes / MIB).toFixed(0)} MiB (written in ${(h.writeMs / 1000).toFixed(1)} s)`;
    const setup = [
      `${describe(big)}; and ${describe(small)}. PNGs 32–256 KiB, a mask on about half the jobs, a trace on every job.`,
      `Each run, history and latency: empty stand-in → \`celstate-sync backfill\` (default settings, concurrency ${concurrency}); empty → floor (read + sha256 + POST every file, ${concurrency} jobs at once, no Convex calls; its rate compared at 0 ms, its CPU at every latency); empty → seed flow over the first ${ctx.sizes.latenciesMs.map((l) => `${Math.min(n, ctx.sizes.seedFlowJobs(l))} jobs at ${l} ms`).join(", ")} (strictly sequential, so its rate over a subset is its rate, and n jobs take n times its time per job).`,
    ];
    for (const { c, m } of perCase) {
      if (c.latency === 0 && m.floorRatio && median(m.floorRatio.values) > 2) {
        notes.push("Within 2× of the floor at 0 ms: missed. See the analysis below the tables.");
      }
    }
    return { id: "backfill", title: this.title, setup, metrics, checks: checks.all, notes, durationMs: Date.now() - started };
  },
};
