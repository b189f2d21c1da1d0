/**
 * Scenario 2, the no-op re-run: jobs already in sync are checked again by a real `backfill`
 * over the real folders. Nothing may be uploaded, nothing written, and, with stat-based
 * diffing, no asset file even opened (counted by the fs probe inside the process). Timed on
 * the finished-job history and on the large set of small in-sync jobs.
 */
import { type BenchStandin, countMutations, countRequests } from "../BenchStandin.js";
import { CheckList } from "../CheckList.js";
import { runBackfillProcess } from "../CelstateSyncProcess.js";
import { type BenchContext, metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median } from "../summarize.js";

async function counters(standin: BenchStandin) {
  const stats = await standin.stats();
  const req = countRequests(stats);
  return { requests: req.total, uploads: req.uploads, writes: countMutations(stats), docs: JSON.stringify(stats.documents) };
}

/** One re-check: the run plus what the deployment saw during it. */
async function recheck(ctx: BenchContext, standin: BenchStandin, jobsDir: string, jobs: number, checks: CheckList, label: string) {
  const before = await counters(standin);
  const bf = await runBackfillProcess({ url: standin.url, token: ctx.token, jobsDir });
  const after = await counters(standin);
  const s = bf.summary;
  checks.expect(
    `${label}: exit 0, every job found in sync`,
    bf.code === 0 && s.inSync === jobs,
    `exit ${bf.code}, ${s.inSync}/${jobs} in sync, ${s.syncedNow} synced now`,
  );
  checks.expect(`${label}: zero uploads`, after.uploads === before.uploads, `${after.uploads - before.uploads} uploads`);
  checks.expect(
    `${label}: zero writes`,
    after.writes === before.writes && after.docs === before.docs,
    `${after.writes - before.writes} mutations; documents ${before.docs} → ${after.docs}`,
  );
  checks.expect(`${label}: no asset file opened (so none hashed)`, bf.assetOpens === 0, `${bf.assetOpens} asset files opened`);
  return { bf, requests: after.requests - before.requests };
}

export const noopScenario: Scenario = {
  id: "noop",
  title: "No-op re-run",
  defaultRuns: 3,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const checks = new CheckList();
    const notes: string[] = [];

    const { dir, written } = await ctx.fixtures.finishedHistory();
    const n = written.jobs.length;
    const standin = await ctx.fixtures.standin(0);
    await standin.reset();
    ctx.log(`syncing the ${n}-job history once …`);
    const first = await runBackfillProcess({ url: standin.url, token: ctx.token, jobsDir: dir });
    checks.expect(
      "first backfill of the history succeeds",
      first.code === 0 && first.summary.syncedNow === n,
      `exit ${first.code}, ${first.summary.syncedNow}/${n} synced`,
    );
    checks.expect(
      "the fs probe sees asset opens when files are hashed and uploaded",
      first.assetOpens >= written.files,
      `${first.assetOpens} asset opens for ${written.files} files`,
    );

    const hWall = metric(`re-check of ${n} jobs, process wall time`, "s", undefined, 2);
    const hEngine = metric(`re-check of ${n} jobs, engine time`, "s", undefined, 2);
    const hReq = metric(`requests for ${n} jobs`, "requests", undefined, 0);
    for (let run = 1; run <= ctx.runs; run++) {
      ctx.log(`run ${run}: re-check of the ${n}-job history …`);
      const { bf, requests } = await recheck(ctx, standin, dir, n, checks, `${n} finished jobs`);
      hWall.values.push(bf.wallMs / 1000);
      hEngine.values.push(bf.summary.durationMs / 1000);
      hReq.values.push(requests);
    }
    await standin.reset();

    const tiny = await ctx.fixtures.tinyHistory();
    const N = tiny.ids.length;
    const tWall = metric(
      `re-check of ${N.toLocaleString("en-US")} small jobs, process wall time`,
      "s",
      { op: "<", value: 20, text: "< 20 s" },
      1,
    );
    const tEngine = metric(`re-check of ${N.toLocaleString("en-US")} small jobs, engine time`, "s");
    const tRate = metric("re-check rate", "jobs/s", undefined, 0);
    const tReq = metric(`requests for ${N.toLocaleString("en-US")} jobs`, "requests", undefined, 0);
    const tCores = metric("CPU of the celstate-sync process", "cores", undefined, 2);
    const tPeak = metric("celstate-sync peak RSS", "MB", undefined, 0);
    for (let run = 1; run <= ctx.runs; run++) {
      ctx.log(`run ${run}: re-check of ${N} small jobs …`);
      const { bf, requests } = await recheck(ctx, tiny.standin, tiny.dir, N, checks, `${N} small jobs`);
      tWall.values.push(bf.wallMs / 1000);
      tEngine.values.push(bf.summary.durationMs / 1000);
      tRate.values.push(N / (bf.summary.durationMs / 1000));
      tReq.values.push(requests);
      tCores.values.push(bf.cpuMs / bf.wallMs);
      tPeak.values.push(bf.peakRssBytes / 1e6);
    }
    if (median(tWall.values) >= 20) {
      notes.push(
        `${N.toLocaleString("en-US")} jobs in < 20 s: missed (median ${median(tWall.values).toFixed(1)} s, ${median(tRate.values).toFixed(0)} jobs/s, the process busy ${median(tCores.values).toFixed(2)} cores). See the analysis below the tables.`,
      );
    }

    const setup = [
      `The ${n}-job history of scenario 1, synced once, then re-checked by \`celstate-sync backfill\` ${ctx.runs}×.`,
      `${N.toLocaleString("en-US")} small finished jobs (job.json, a ~100-byte output PNG and its debug PNG, dated a day ago): written in ${(tiny.writeMs / 1000).toFixed(1)} s and put in sync by seeding the stand-in directly in ${(tiny.seedMs / 1000).toFixed(1)} s (what a first backfill would commit, without the HTTP round trips); then re-checked by \`celstate-sync backfill\` ${ctx.runs}×. "No asset file opened" is counted by a probe preloaded into the process that wraps \`fs.promises.open\`.`,
    ];
    return {
      id: "noop",
      title: this.title,
      setup,
      metrics: [hWall, hEngine, hReq, tWall, tEngine, tRate, tReq, tCores, tPeak],
      checks: checks.all,
      notes,
      durationMs: Date.now() - started,
    };
  },
};
