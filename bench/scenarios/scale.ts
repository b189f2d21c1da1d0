/**
 * Scenario 6, history at scale: `celstate-sync watch` over a history that grows from one size
 * to the next (50,000, 200,000, 1,000,000 small in-sync jobs; a few thousand in quick mode),
 * plus a few active jobs. The remote is simulated (SimulatedRemote.ts): it answers
 * `sync:getStates` for the history from the ids alone and passes everything else, the active
 * jobs included, to a stand-in, so the start-up's figures are the daemon's own. Per size: the
 * start-up (wall time, the daemon's CPU per job), resident memory after it and after an idle
 * period, and the longest event-loop block during the start-up and during a full rescan,
 * measured inside the daemon (loopProbe.js: `monitorEventLoopDelay` at 1 ms).
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { CheckList } from "../CheckList.js";
import { CelstateSyncProcess } from "../CelstateSyncProcess.js";
import { LiveJob, type Rename, writeLiveJobs } from "../LiveJob.js";
import { readProcSnapshot } from "../procStats.js";
import { renameLatencies } from "../renameLatencies.js";
import { percentile } from "../summarize.js";
import { RandomSource } from "../randomSource.js";
import { writeScaleJobs } from "../scaleHistory.js";
import { type BenchContext, metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { SimulatedRemote } from "../SimulatedRemote.js";
import { waitFor } from "../../tests/helpers/waitFor.js";

type LoopWindow = { maxMs: number; p99Ms: number; samples: number };

const count = (text: string, of: string): number => text.split(of).length - 1;

/** Ends the daemon's current event-loop window and returns it (loopProbe.js). */
async function loopWindow(p: CelstateSyncProcess, file: string): Promise<LoopWindow> {
  const before = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
  p.child.kill("SIGUSR2");
  const lines = await waitFor(
    async () => {
      const now = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
      return now.length > before ? now : null;
    },
    { intervalMs: 20, what: "the loop probe's window" },
  );
  return JSON.parse(lines.at(-1)!) as LoopWindow;
}

const fmt = (n: number) => n.toLocaleString("en-US");

export const scaleScenario: Scenario = {
  id: "scale",
  title: "History at scale",
  defaultRuns: 1,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const checks = new CheckList();
    const notes: string[] = [];
    const sizes = ctx.sizes.scaleJobs;
    const dir = await ctx.fixtures.tempDir("scale");
    const standin = await ctx.fixtures.ownStandin(0);
    const remote = await SimulatedRemote.start(standin.url);
    const configFile = path.join(await ctx.fixtures.tempDir("scale-config"), "celstate-sync.config.json");
    // A rescan soon after the start-up and the idle period, then every so often.
    await writeFile(configFile, JSON.stringify({ watch: { rescanIntervalMs: ctx.sizes.scaleRescanEveryMs } }));
    const probeFile = path.join(path.dirname(configFile), "loop.jsonl");

    const rng = new RandomSource(6);
    const renames: Rename[] = [];
    const active: LiveJob[] = [];
    for (let i = 0; i < ctx.sizes.activeJobs; i++) {
      const job = new LiveJob(dir, rng, renames, { min: 2_000, max: 8_000 });
      await job.queued();
      if (i % 3 >= 1) await job.running();
      if (i % 3 === 2) await job.processing();
      active.push(job);
    }

    const m = (label: string, unit: string, goal?: Parameters<typeof metric>[2], digits?: number) =>
      sizes.map((n) => metric(`${fmt(n)} jobs: ${label}`, unit, goal, digits));
    const startup = m("start-up (spawn to `start-up reconcile done`)", "s", undefined, 1);
    const startupRate = m("start-up, whole", "jobs/s", undefined, 0);
    const triageRate = m("start-up, the daemon's own work (jobs per CPU second)", "jobs/s", undefined, 0);
    const cpuPerJob = m("daemon CPU per job during the start-up", "µs", undefined, 0);
    const rssAfter = m(
      "resident memory after start-up (max of right after and after the idle period)",
      "MB",
      { op: "<", value: 150, text: "< 150 MB" },
      0,
    );
    const hwm = m("peak resident memory during start-up (VmHWM)", "MB", undefined, 0);
    const startupBlock = m("longest event-loop block during the start-up pass", "ms", { op: "<", value: 20, text: "< 20 ms" }, 1);
    const rescanMs = m("full rescan", "s", undefined, 1);
    const rescanBlock = m(
      "longest event-loop block from the idle period through a full rescan",
      "ms",
      { op: "<", value: 20, text: "< 20 ms" },
      1,
    );
    const simShare = m("the simulated remote's own time computing states", "s", undefined, 1);
    const largest = sizes.at(-1)!;
    const rate = ctx.sizes.liveJobsPerSecond;
    const during = `${rate} jobs/s while the ${fmt(largest)}-job history is rescanned`;
    const liveP50 = metric(`p50 rename → commit, ${during}`, "ms", undefined, 0);
    const liveP90 = metric(`p90 rename → commit, ${during}`, "ms", undefined, 0);
    const liveP99 = metric(`p99 rename → commit, ${during}`, "ms", { op: "<", value: 100, text: "< 100 ms" }, 0);
    const liveP99Outside = metric(`p99 rename → commit, the same live phase outside the rescans`, "ms", undefined, 0);
    const liveRatio = metric(
      `p99 during the rescans ÷ p99 outside them, same live phase`,
      "×",
      { op: "<=", value: 1.2, text: "≤ 1.2×" },
      2,
    );
    const rescanShare = metric("share of that live phase with a rescan running", "%", undefined, 0);

    /**
     * Live jobs written at the live scenario's rate for scaleLiveMs while rescans of the whole
     * history come every scaleRescanEveryMs; each rename counts as during a rescan if one was
     * running when it happened, so the two p99s come from the same phase, side by side.
     */
    const liveDuringRescans = async (p: CelstateSyncProcess): Promise<void> => {
      ctx.log(`${rate} jobs/s for ${ctx.sizes.scaleLiveMs / 1000} s while rescans run …`);
      const renames: Rename[] = [];
      const t0 = Date.now();
      const jobs = await writeLiveJobs(dir, rate, ctx.sizes.scaleLiveMs, new RandomSource(61), renames);
      const t1 = Date.now();
      // Until every live job's final state is in (the latencies of those that never make it show as unmatched).
      const finalOf = new Map(jobs.map((j) => [j.id, String(j.record.updated_at)]));
      let commits = await standin.commits(t0);
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; commits = await standin.commits(t0)) {
        const done = new Set(commits.filter((c) => finalOf.get(c.jobId) === c.updatedAt).map((c) => c.jobId));
        if (done.size === finalOf.size) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      // Every rescan that overlapped the phase has ended once one ends after it.
      await waitFor(() => p.rescans.some((r) => r.endMs >= t1), {
        timeoutMs: 4 * ctx.sizes.scaleRescanEveryMs + 120_000,
        intervalMs: 200,
        what: "a rescan ending after the live phase",
      });
      const overlapping = p.rescans.filter((r) => r.endMs >= t0 && r.startMs <= t1);
      const inRescan = (at: number) => overlapping.some((r) => at >= r.startMs && at <= r.endMs);
      const inside = renameLatencies(
        renames.filter((r) => inRescan(r.atMs)),
        commits,
      );
      const outside = renameLatencies(
        renames.filter((r) => !inRescan(r.atMs)),
        commits,
      );
      const unmatched = inside.unmatched.length + outside.unmatched.length;
      checks.expect(
        "every live job.json rename reached the deployment",
        unmatched === 0,
        `${unmatched} of ${renames.length} renames without a commit`,
      );
      checks.expect(
        "renames both during and outside the rescans",
        inside.latencies.length > 0 && outside.latencies.length > 0,
        `${inside.latencies.length} during, ${outside.latencies.length} outside`,
      );
      liveP50.values.push(percentile(inside.latencies, 50));
      liveP90.values.push(percentile(inside.latencies, 90));
      liveP99.values.push(percentile(inside.latencies, 99));
      liveP99Outside.values.push(percentile(outside.latencies, 99));
      liveRatio.values.push(percentile(inside.latencies, 99) / percentile(outside.latencies, 99));
      let busy = 0;
      for (const r of overlapping) busy += Math.max(0, Math.min(r.endMs, t1) - Math.max(r.startMs, t0));
      rescanShare.values.push((busy / (t1 - t0)) * 100);
    };

    let written = 0;
    try {
      for (const [k, n] of sizes.entries()) {
        const t0 = Date.now();
        ctx.log(`writing jobs ${fmt(written)} … ${fmt(n)} …`);
        writeScaleJobs(dir, written, n);
        written = n;
        ctx.log(`written in ${((Date.now() - t0) / 1000).toFixed(0)} s; watch over ${fmt(n)} in-sync + ${active.length} active jobs …`);
        // Files changed within the rescan's clock slack (2 s) before the start-up would be looked
        // at again by the first rescan: the history is older than that, as a real one is.
        const writtenAt = Date.now();
        await waitFor(() => Date.now() - writtenAt > 2_500, { what: "the history to be older than the rescan's slack" });
        await rm(probeFile, { force: true });
        const busyBefore = remote.busyMs;
        const served = remote.statesServed;
        const p = await CelstateSyncProcess.spawn(
          ["watch", "--log-level", "info", "--config", configFile],
          { url: remote.url, token: ctx.token, jobsDir: dir },
          { BENCH_LOOP_PROBE_OUT: probeFile },
        );
        try {
          // The window starts with the pass: loading the program is not the pass's block.
          await p.waitForLog("start-up reconcile of every job on disk", 60_000);
          await loopWindow(p, probeFile);
          await p.waitForLog("start-up reconcile done", 3_600_000);
          const wall = (Date.now() - p.startedAt) / 1000;
          const cpu = (await p.cpuMs()) / 1000;
          const afterStartup = await readProcSnapshot(p.pid);
          const startWindow = await loopWindow(p, probeFile);
          startup[k]!.values.push(wall);
          startupRate[k]!.values.push(n / wall);
          triageRate[k]!.values.push(n / cpu);
          cpuPerJob[k]!.values.push((cpu / n) * 1e6);
          hwm[k]!.values.push(afterStartup.hwmBytes / 1e6);
          startupBlock[k]!.values.push(startWindow.maxMs);
          simShare[k]!.values.push((remote.busyMs - busyBefore) / 1000);
          checks.expect(
            `${fmt(n)} jobs: the simulated remote answered for every job`,
            remote.statesServed - served >= n,
            `${fmt(remote.statesServed - served)} states served`,
          );

          const rescansBefore = count(p.stderr, '"rescan done"');
          ctx.log(`idle for ${ctx.sizes.idleMs / 1000} s, then a full rescan …`);
          await new Promise((r) => setTimeout(r, ctx.sizes.idleMs));
          const afterIdle = await readProcSnapshot(p.pid);
          rssAfter[k]!.values.push(Math.max(afterStartup.rssBytes, afterIdle.rssBytes) / 1e6);
          await waitFor(() => count(p.stderr, '"rescan done"') > rescansBefore, {
            timeoutMs: ctx.sizes.scaleRescanEveryMs * 3 + n,
            intervalMs: 50,
            what: "a full rescan",
          });
          const rescanWindow = await loopWindow(p, probeFile);
          rescanBlock[k]!.values.push(rescanWindow.maxMs);
          const line =
            p.stderr
              .slice(p.stderr.lastIndexOf('"rescan done"') - 200)
              .split("\n")
              .find((l) => l.includes('"rescan done"')) ?? "";
          const rescanned = /"jobs":(\d+)/.exec(line);
          const took = /"ms":(\d+)/.exec(line);
          rescanMs[k]!.values.push(took ? Number(took[1]) / 1000 : Number.NaN);
          checks.expect(`${fmt(n)} jobs: the rescan went over every job`, Number(rescanned?.[1]) === n + active.length, line.slice(0, 200));
          if (n === largest) await liveDuringRescans(p);
        } finally {
          const { code } = await p.stop();
          checks.expect(`${fmt(n)} jobs: watch stops on SIGTERM with exit code 0`, code === 0, `exit ${code}`);
          checks.expect(`${fmt(n)} jobs: the daemon logged no error`, p.errorLines.length === 0, p.errorLines[0] ?? "none");
        }
      }
    } finally {
      await remote.stop();
      await standin.stop();
      await rm(dir, { recursive: true, force: true });
    }

    const setup = [
      `A history of small finished jobs (job.json and two tiny PNGs each) grown to ${sizes.map(fmt).join(", then ")} jobs, plus ${active.length} active ones (a third queued, a third running, a third mid-processing). \`celstate-sync watch\` (default settings, a rescan every ${ctx.sizes.scaleRescanEveryMs / 1000} s) is started once per size against a **simulated remote**: it answers \`sync:getStates\` for the history from the job ids alone, as a deployment holding those jobs in sync would, and passes every other request, the active jobs' included, to the stand-in. After the start-up: /proc/<pid>/status (VmRSS, VmHWM) right after and after ${ctx.sizes.idleMs / 1000} s idle; the event loop's longest delay over the start-up, and from the idle period through the next full rescan (\`monitorEventLoopDelay\` at 1 ms resolution, preloaded into the daemon).`,
    ];
    return {
      id: "scale",
      title: this.title,
      setup,
      metrics: [
        ...[startup, startupRate, triageRate, cpuPerJob, rssAfter, hwm, startupBlock, rescanMs, rescanBlock, simShare].flat(),
        liveP50,
        liveP90,
        liveP99,
        liveP99Outside,
        liveRatio,
        rescanShare,
      ],
      checks: checks.all,
      notes,
      durationMs: Date.now() - started,
    };
  },
};
