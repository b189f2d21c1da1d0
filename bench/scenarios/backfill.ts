/**
 * Scenario 1, backfill throughput: the finished-job history synced into an empty deployment by
 * `celstate-sync backfill` (its own process), next to the seed's one-request-at-a-time flow and
 * the physical floor, at each added latency, all in the same run so ratios are fair.
 *
 * Throughput is jobs over the engine's own duration (the summary's `durationMs`, process
 * start-up excluded, as the floor and the seed flow are timed in-process); the process's wall
 * time is reported beside it. Requests are counted by the deployment, not the client.
 */
import { configSchema } from "../../src/config/configSchema.js";
import { countRequests } from "../BenchStandin.js";
import { CheckList } from "../CheckList.js";
import { runBackfillProcess } from "../CelstateSyncProcess.js";
import { readProcSnapshot } from "../procStats.js";
import { runFloor } from "../runFloor.js";
import { runSeedFlow } from "../runSeedFlow.js";
import { type BenchContext, metric, type Metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median } from "../summarize.js";

const MIB = 1024 * 1024;
/** A wider setting than the default, to show how much of the 25 ms case is waiting. */
const WIDE = 32;

export const backfillScenario: Scenario = {
  id: "backfill",
  title: "Backfill throughput",
  defaultRuns: 3,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const { dir, written, writeMs } = await ctx.fixtures.finishedHistory();
    const n = written.jobs.length;
    const concurrency = configSchema.parse({}).concurrency;
    const checks = new CheckList();
    const metrics: Metric[] = [];
    const notes: string[] = [];
    const perLatency = new Map<number, Record<string, Metric | undefined>>();

    for (const latency of ctx.sizes.latenciesMs) {
      const at = `${latency} ms`;
      const m: Record<string, Metric | undefined> = {
        cs: metric(`celstate-sync, ${at}`, "jobs/s"),
        csMb: metric(`celstate-sync, ${at}`, "MiB/s"),
        wall: metric(`celstate-sync process wall time, ${at}`, "s"),
        floor: latency === 0 ? metric(`floor, ${at}`, "jobs/s") : undefined,
        seed: metric(`seed flow, ${at}`, "jobs/s", undefined, 2),
        vsSeed: metric(
          `celstate-sync ÷ seed flow, ${at}`,
          "×",
          latency === 25 ? { op: ">=", value: 20, text: "≥ 20× the seed flow at 25 ms" } : undefined,
        ),
        floorRatio:
          latency === 0
            ? metric(`celstate-sync time ÷ floor time, ${at}`, "×", { op: "<=", value: 2, text: "within 2× of the floor at 0 ms" }, 2)
            : undefined,
        extraReq: metric(
          `requests per job beyond one per uploaded file, ${at}`,
          "req/job",
          { op: "<=", value: 1.2, text: "≤ 1.2 + one per uploaded file" },
          3,
        ),
        wide: latency > 0 ? metric(`celstate-sync with concurrency ${WIDE}, ${at} (first run only)`, "jobs/s") : undefined,
        wideVsSeed: latency > 0 ? metric(`celstate-sync with concurrency ${WIDE} ÷ seed flow, ${at} (first run only)`, "×") : undefined,
        peak: metric(`celstate-sync peak RSS, ${at}`, "MB", undefined, 0),
        csCores: metric(`CPU of the celstate-sync process, ${at}`, "cores", undefined, 2),
        standinCores: metric(`CPU of the stand-in during that backfill, ${at}`, "cores", undefined, 2),
      };
      perLatency.set(latency, m);
      metrics.push(...Object.values(m).filter((x): x is Metric => x !== undefined));
    }

    for (let run = 1; run <= ctx.runs; run++) {
      for (const latency of ctx.sizes.latenciesMs) {
        const m = perLatency.get(latency)!;
        const standin = await ctx.fixtures.standin(latency);
        const target = { url: standin.url, token: ctx.token, jobsDir: dir };

        await standin.reset();
        ctx.log(`run ${run}, ${latency} ms: celstate-sync backfill of ${n} jobs …`);
        const standinCpu0 = (await readProcSnapshot(standin.pid)).cpuMs;
        const bf = await runBackfillProcess(target);
        const standinCpuMs = (await readProcSnapshot(standin.pid)).cpuMs - standinCpu0;
        const stats = await standin.stats();
        const req = countRequests(stats);
        const s = bf.summary;
        checks.expect(
          "backfill exits 0 with every job synced",
          bf.code === 0 && s.syncedNow === n,
          `exit ${bf.code}, ${s.syncedNow}/${n} synced, ${s.failed.length} failed, ${s.pending.length} pending`,
        );
        checks.expect(
          "every file uploaded once and committed",
          s.filesUploaded === written.files &&
            req.uploads === written.files &&
            stats.documents.jobAssets === written.files &&
            stats.documents.jobs === n,
          `${req.uploads} uploads, ${stats.documents.jobAssets} asset rows, ${stats.documents.jobs} job rows for ${written.files} files of ${n} jobs`,
        );
        m.cs!.values.push(n / (s.durationMs / 1000));
        m.csMb!.values.push(written.bytes / MIB / (s.durationMs / 1000));
        m.wall!.values.push(bf.wallMs / 1000);
        m.extraReq!.values.push((req.total - req.uploads) / n);
        m.peak!.values.push(bf.peakRssBytes / 1e6);
        m.csCores!.values.push(bf.cpuMs / bf.wallMs);
        m.standinCores!.values.push(standinCpuMs / bf.wallMs);

        if (latency > 0 && run === 1) {
          // The lever for latency: more jobs in flight (CELSTATE_SYNC_CONCURRENCY), same code.
          // One run is enough to show whether the wait or the CPU is the limit.
          await standin.reset();
          ctx.log(`run ${run}, ${latency} ms: celstate-sync backfill with concurrency ${WIDE} …`);
          const wide = await runBackfillProcess(target, { CELSTATE_SYNC_CONCURRENCY: String(WIDE) });
          checks.expect(
            `backfill with concurrency ${WIDE} exits 0 with every job synced`,
            wide.code === 0 && wide.summary.syncedNow === n,
            `exit ${wide.code}, ${wide.summary.syncedNow}/${n} synced`,
          );
          m.wide!.values.push(n / (wide.summary.durationMs / 1000));
        }
        if (latency === 0) {
          // The floor is the yardstick at 0 ms only: with added latency it measures the latency.
          await standin.reset();
          ctx.log(`run ${run}, ${latency} ms: floor …`);
          const floor = await runFloor({ url: standin.url, token: ctx.token, jobs: written.jobs, concurrency });
          checks.expect("the floor stores every file", floor.files === written.files, `${floor.files} of ${written.files}`);
          m.floor!.values.push(n / (floor.ms / 1000));
          m.floorRatio!.values.push(s.durationMs / floor.ms);
        }

        await standin.reset();
        const k = Math.min(n, ctx.sizes.seedFlowJobs(latency));
        ctx.log(`run ${run}, ${latency} ms: seed flow over ${k} jobs …`);
        const seed = await runSeedFlow({
          url: standin.url,
          token: ctx.token,
          jobsDir: dir,
          jobIds: written.jobs.slice(0, k).map((j) => j.id),
        });
        const seedReq = countRequests(await standin.stats());
        checks.expect(
          "the seed flow makes 1 + 3 requests per file, one job at a time",
          seedReq.total === k + 3 * seed.files,
          `${seedReq.total} requests for ${k} jobs and ${seed.files} files`,
        );
        const seedJobsPerS = k / (seed.ms / 1000);
        m.seed!.values.push(seedJobsPerS);
        m.vsSeed!.values.push(n / (s.durationMs / 1000) / seedJobsPerS);
        if (m.wide && run === 1) m.wideVsSeed!.values.push(m.wide.values.at(-1)! / seedJobsPerS);
      }
    }
    await ctx.fixtures.standin(0).then((s) => s.reset());

    const setup = [
      `${n} finished jobs, ${written.files} files (${(written.files / n).toFixed(2)} a job), ${(written.bytes / MIB).toFixed(0)} MiB; PNGs 32–256 KiB, a mask on about half the jobs, a trace on every job (written in ${(writeMs / 1000).toFixed(1)} s).`,
      `Each run and latency: empty stand-in → \`celstate-sync backfill\` (default settings, concurrency ${concurrency}); at 0 ms, empty → floor (read + sha256 + POST every file, ${concurrency} jobs at once, no Convex calls); empty → seed flow over the first ${ctx.sizes.latenciesMs.map((l) => `${Math.min(n, ctx.sizes.seedFlowJobs(l))} jobs at ${l} ms`).join(", ")} (strictly sequential, so its rate over a subset is its rate).`,
    ];
    for (const latency of ctx.sizes.latenciesMs) {
      const m = perLatency.get(latency)!;
      if (latency === 0 && m.floorRatio && median(m.floorRatio.values) > 2) {
        notes.push("Within 2× of the floor at 0 ms: missed. See the analysis below the tables.");
      }
    }
    return { id: "backfill", title: this.title, setup, metrics, checks: checks.all, notes, durationMs: Date.now() - started };
  },
};
