/**
 * Scenario 5, a large file: one finished job whose output PNG is 1 GiB, synced by
 * `celstate-sync backfill` (its own process, VmHWM sampled) and, in the same run, by the floor
 * (stream + sha256, then stream the POST). Memory must stay bounded whatever the file size.
 */
import { mkdir, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { configSchema } from "../../src/config/configSchema.js";
import { nextIso, PipelineJob, writeJsonAtomic } from "../../tests/helpers/pipelineWriter.js";
import { CheckList } from "../CheckList.js";
import { runBackfillProcess } from "../CelstateSyncProcess.js";
import { makeRandomPng, writeLargePng } from "../fastPng.js";
import { runFloor } from "../runFloor.js";
import { type BenchContext, metric, type Scenario, type ScenarioResult } from "../Scenario.js";
import { median } from "../summarize.js";
import type { AssetFile } from "../writeFinishedJobs.js";

const MIB = 1024 * 1024;

async function writeLargeJob(jobsDir: string, bytes: number): Promise<{ id: string; assets: AssetFile[]; bytes: number }> {
  const job = new PipelineJob(jobsDir, { withMask: false });
  const out = path.join(job.dir, "outputs");
  await mkdir(out, { recursive: true });
  const [main, debug] = job.assetNames.map((n) => path.join(out, n));
  await writeLargePng(main!, bytes);
  await writeFile(debug!, makeRandomPng(64 * 1024));
  const component = job.component();
  job.record = {
    ...job.record,
    status: "succeeded",
    progress_stage: "completed",
    component,
    telemetry: component.telemetry,
    updated_at: nextIso(),
  };
  await writeJsonAtomic(job.dir, "job.json", job.record);
  await job.trace();
  const assets: AssetFile[] = [
    { path: main!, contentType: "image/png" },
    { path: debug!, contentType: "image/png" },
    { path: path.join(job.dir, "trace", "trace.json"), contentType: "application/json" },
  ];
  const hourAgo = new Date(Date.now() - 3_600_000);
  let total = 0;
  for (const a of assets) {
    await utimes(a.path, hourAgo, hourAgo);
    total += (await stat(a.path)).size;
  }
  return { id: job.id, assets, bytes: total };
}

export const largeScenario: Scenario = {
  id: "large",
  title: "Large file",
  defaultRuns: 3,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const started = Date.now();
    const checks = new CheckList();
    const notes: string[] = [];
    const size = ctx.sizes.largeBytes;
    const dir = await ctx.fixtures.tempDir("large");
    ctx.log(`writing a ${(size / MIB).toFixed(0)} MiB PNG …`);
    const t = Date.now();
    const job = await writeLargeJob(dir, size);
    const writeMs = Date.now() - t;

    const peak = metric("celstate-sync peak resident memory (VmHWM)", "MB", { op: "<", value: 200, text: "< 200 MB" }, 0);
    const cs = metric("celstate-sync throughput", "MiB/s");
    const floor = metric("floor throughput", "MiB/s");
    const ratio = metric("celstate-sync time ÷ floor time", "×", { op: "<=", value: 2, text: "within 2× of the floor" }, 2);
    const wall = metric("celstate-sync process wall time", "s");
    const standin = await ctx.fixtures.standin(0);
    const concurrency = configSchema.parse({}).concurrency;
    for (let run = 1; run <= ctx.runs; run++) {
      await standin.reset();
      ctx.log(`run ${run}: celstate-sync backfill of the large job …`);
      const bf = await runBackfillProcess({ url: standin.url, token: ctx.token, jobsDir: dir });
      const stats = await standin.stats();
      checks.expect(
        "the job is synced: three files stored, byte for byte",
        bf.code === 0 && bf.summary.syncedNow === 1 && stats.uploads === 3 && stats.blobs.bytes === job.bytes,
        `exit ${bf.code}, ${stats.uploads} uploads, ${stats.blobs.bytes} of ${job.bytes} bytes stored`,
      );
      peak.values.push(bf.peakRssBytes / 1e6);
      wall.values.push(bf.wallMs / 1000);
      cs.values.push(job.bytes / MIB / (bf.summary.durationMs / 1000));

      await standin.reset();
      ctx.log(`run ${run}: floor …`);
      const f = await runFloor({ url: standin.url, token: ctx.token, jobs: [job], concurrency });
      floor.values.push(f.bytes / MIB / (f.ms / 1000));
      ratio.values.push(bf.summary.durationMs / f.ms);
    }
    await standin.reset();
    if (median(ratio.values) > 2)
      notes.push(`Within 2× of the floor: missed (median ${median(ratio.values).toFixed(2)}×). See the analysis below the tables.`);
    if (median(peak.values) >= 200) notes.push(`Peak memory < 200 MB: missed (median ${median(peak.values).toFixed(0)} MB).`);
    const setup = [
      `One finished job: a ${(size / MIB).toFixed(0)} MiB output PNG (random data in 1 MiB IDAT chunks, written in ${(writeMs / 1000).toFixed(1)} s), a 64 KiB debug PNG and the trace. Each run: empty stand-in → \`celstate-sync backfill\`; empty → floor (stream + sha256, then stream the POST with its Digest). Throughput is bytes over the engine's duration (start-up excluded).`,
    ];
    return {
      id: "large",
      title: this.title,
      setup,
      metrics: [peak, cs, floor, ratio, wall],
      checks: checks.all,
      notes,
      durationMs: Date.now() - started,
    };
  },
};
