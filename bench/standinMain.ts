/**
 * The stand-in for benchmarks: the same server as `tests/standin/main.ts` (same flags, same
 * `listening on …` line, same control API), plus one thing only a benchmark needs: seeding
 * tens of thousands of in-sync jobs directly, over the IPC channel, instead of through HTTP.
 * A seed message carries what a commit would (the record as the daemon reads it, its hash, and
 * each asset's bytes and stat); the rows are inserted as `upsertJobRow` and `saveAssetRow`
 * write them into an empty deployment, many jobs per transaction, without their look-ups
 * (convex-test spends most of a commit on queries; inserting directly is about four times
 * faster). The audit rows a commit would add (`jobEvents`) are left out: nothing the
 * benchmarks measure reads them. A re-check that finds nothing to do is the proof that the
 * seeded rows are what the daemon would have written.
 */
import { refreshSyncState } from "../convex/lib/jobStore.js";
import { parseArgs } from "node:util";
import type { AssetInput, JobRecordInput } from "../convex/lib/jobStore.js";
import { isoToMicros } from "../convex/lib/time.js";
import { startStandin } from "../tests/standin/StandinServer.js";

export type SeedAsset = Omit<AssetInput, "storageId"> & { data: Uint8Array };
export type SeedJob = { record: JobRecordInput; recordHash: string; sourceHash: string; assets: SeedAsset[] };
export type SeedMessage = { type: "seed"; seq: number; jobs: SeedJob[] };
export type SeedAck = { type: "seeded"; seq: number; jobs: number } | { type: "seed-failed"; seq: number; message: string };

const { values } = parseArgs({ options: { port: { type: "string" }, "latency-ms": { type: "string" } } });
const standin = await startStandin({ port: Number(values.port ?? 0), latencyMs: Number(values["latency-ms"] ?? 0) });

async function seed(jobs: SeedJob[]): Promise<void> {
  await standin.engine.convex.run(async (ctx) => {
    for (const { record, recordHash, sourceHash, assets } of jobs) {
      const updatedAtUs = isoToMicros(record.updatedAtIso);
      if (updatedAtUs === null) throw new Error(`job ${record.jobId}: updatedAtIso ${record.updatedAtIso} is not ISO-8601`);
      await ctx.db.insert("jobs", { ...record, updatedAtUs, recordHash, sourceHash });
      for (const { data, ...asset } of assets) {
        const storageId = await ctx.storage.store(new Blob([data], { type: asset.contentType }));
        await ctx.db.insert("jobAssets", { jobId: record.jobId, ...asset, storageId, createdAt: Date.now() });
      }
      // What every mutation that writes a job does last.
      await refreshSyncState(ctx, record.jobId);
    }
  });
}

process.on("message", (m: SeedMessage) => {
  if (m.type !== "seed") return;
  seed(m.jobs).then(
    () => process.send?.({ type: "seeded", seq: m.seq, jobs: m.jobs.length } satisfies SeedAck),
    (e: unknown) => process.send?.({ type: "seed-failed", seq: m.seq, message: String(e) } satisfies SeedAck),
  );
});

process.stdout.write(`listening on ${standin.url}\n`);
await new Promise<void>((resolve) => {
  process.once("SIGTERM", resolve);
  process.once("SIGINT", resolve);
  // The benchmark went away (crashed, killed): do not outlive it.
  process.once("disconnect", resolve);
});
await standin.stop();
if (process.connected) process.disconnect();
