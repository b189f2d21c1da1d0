/**
 * Scenario 4, scale at rest: `celstate-sync watch` over the large set of small in-sync jobs plus
 * a few active ones (queued, running, mid-processing). After its start-up reconcile: resident
 * memory, inotify watches, and CPU over an idle period, read from /proc, with the deployment's
 * counters confirming that nothing was asked of it while idle.
 */
import { rm } from "node:fs/promises";
import { countMutations, countRequests } from "../BenchStandin.js";
import { CheckList } from "../CheckList.js";
import { CelstateSyncProcess } from "../CelstateSyncProcess.js";
import { LiveJob, type Rename } from "../LiveJob.js";
import { countInotifyWatches, readProcSnapshot } from "../procStats.js";
import { RandomSource } from "../randomSource.js";
import { type BenchContext, metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median } from "../summarize.js";

export const restScenario: Scenario = {
  id: "rest",
  title: "Scale at rest",
  defaultRuns: 2,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const checks = new CheckList();
    const notes: string[] = [];
    const tiny = await ctx.fixtures.tinyHistory();
    const N = tiny.ids.length;
    const A = ctx.sizes.activeJobs;

    // Active jobs: a third queued, a third running, a third with outputs written and not done.
    const rng = new RandomSource(4);
    const renames: Rename[] = [];
    const active: LiveJob[] = [];
    for (let i = 0; i < A; i++) {
      const job = new LiveJob(tiny.dir, rng, renames);
      await job.queued();
      if (i % 3 >= 1) await job.running();
      if (i % 3 === 2) await job.processing();
      active.push(job);
    }

    const idleS = ctx.sizes.idleMs / 1000;
    const startup = metric("start-up reconcile (spawn to `start-up reconcile done`)", "s");
    const rss = metric(
      "resident memory after start-up (max of right after and after the idle period)",
      "MB",
      { op: "<", value: 150, text: "< 150 MB" },
      0,
    );
    const hwm = metric("peak resident memory during start-up (VmHWM)", "MB", undefined, 0);
    const watches = metric("inotify watches", "watches", { op: "<", value: 1000, text: "< 1,000" }, 0);
    const cpu = metric(`CPU over ${idleS} s idle, from the end of start-up`, "%", { op: "<", value: 1, text: "< 1 %" }, 2);
    const idleRequests = metric(
      `requests to the deployment in those ${idleS} s (follow-up checks of just-watched jobs)`,
      "requests",
      undefined,
      0,
    );

    for (let run = 1; run <= ctx.runs; run++) {
      ctx.log(`run ${run}: watch over ${N} in-sync + ${A} active jobs …`);
      const p = await CelstateSyncProcess.spawn(["watch", "--log-level", "info"], {
        url: tiny.standin.url,
        token: ctx.token,
        jobsDir: tiny.dir,
      });
      try {
        await p.waitForLog("start-up reconcile done", 600_000);
        startup.values.push((Date.now() - p.startedAt) / 1000);
        const afterStartup = await readProcSnapshot(p.pid);
        const before = await tiny.standin.stats();
        ctx.log(`run ${run}: idle for ${idleS} s …`);
        await new Promise((r) => setTimeout(r, ctx.sizes.idleMs));
        const end = await readProcSnapshot(p.pid);
        const after = await tiny.standin.stats();
        const w = await countInotifyWatches(p.pid);
        rss.values.push(Math.max(afterStartup.rssBytes, end.rssBytes) / 1e6);
        hwm.values.push(afterStartup.hwmBytes / 1e6);
        watches.values.push(w);
        cpu.values.push(((end.cpuMs - afterStartup.cpuMs) / (end.atMs - afterStartup.atMs)) * 100);
        const writes = countMutations(after) - countMutations(before);
        const uploads = after.uploads - before.uploads;
        checks.expect(
          "nothing uploaded or written while idle",
          writes === 0 && uploads === 0,
          `${uploads} uploads, ${writes} mutations in ${idleS} s`,
        );
        idleRequests.values.push(countRequests(after).total - countRequests(before).total);
      } finally {
        const { code, signal } = await p.stop();
        checks.expect("watch stops on SIGTERM with exit code 0", code === 0, `exit ${code}${signal ? ` (${signal})` : ""}`);
        checks.expect("the daemon logged no error", p.errorLines.length === 0, p.errorLines[0] ?? "none");
      }
    }
    await Promise.all(active.map((j) => rm(j.dir, { recursive: true, force: true })));

    if (median(rss.values) >= 150) {
      notes.push(`Resident memory < 150 MB: missed (median ${median(rss.values).toFixed(0)} MB). See the analysis below the tables.`);
    }
    if (median(cpu.values) >= 1) notes.push(`CPU < 1 % idle: missed (median ${median(cpu.values).toFixed(2)} %).`);
    const setup = [
      `${N.toLocaleString("en-US")} small in-sync jobs (scenario 2's) plus ${A} active ones (a third queued, a third running, a third mid-processing with outputs written). \`celstate-sync watch\` (default settings) is started ${ctx.runs}×; after its start-up reconcile, /proc/<pid>/status (VmRSS, VmHWM), /proc/<pid>/stat (utime + stime) over ${idleS} s idle, and the \`inotify\` lines of /proc/<pid>/fdinfo/*.`,
    ];
    return {
      id: "rest",
      title: this.title,
      setup,
      metrics: [startup, rss, hwm, watches, cpu, idleRequests],
      checks: checks.all,
      notes,
      durationMs: Date.now() - started,
    };
  },
};
