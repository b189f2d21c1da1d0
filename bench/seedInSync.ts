/**
 * Makes jobs on disk in sync without a backfill: reads each job with the daemon's own reader
 * (so the record, its hash and every file's size and mtime are exactly what a reconcile will
 * compare), hashes the files, and has the stand-in commit them directly. For 50,000 jobs this
 * takes about a minute where a first backfill would take many; the re-check that follows is a
 * real `backfill` over the real folders either way.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { DEFAULT_ASSET_RULES } from "../src/local/defaultAssetRules.js";
import { readLocalJob } from "../src/local/readJob.js";
import type { BenchStandin } from "./BenchStandin.js";
import type { SeedJob } from "./standinMain.js";

async function toSeedJob(jobsDir: string, jobId: string): Promise<SeedJob> {
  const local = await readLocalJob(jobsDir, jobId, DEFAULT_ASSET_RULES);
  const assets = await Promise.all(
    local.files.map(async (f) => {
      const data = await readFile(f.absPath);
      return {
        role: f.role,
        filename: f.filename,
        contentType: f.contentType,
        bytes: data.length,
        sha256: createHash("sha256").update(data).digest("hex"),
        sourceMtimeMs: f.mtimeMs,
        data,
      };
    }),
  );
  return { record: local.record, recordHash: local.recordHash, sourceHash: local.sourceHash, assets };
}

export async function seedInSync(standin: BenchStandin, jobsDir: string, jobIds: string[], batch = 250): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < jobIds.length; i += batch) {
    const jobs = await Promise.all(jobIds.slice(i, i + batch).map((id) => toSeedJob(jobsDir, id)));
    const p = standin.seed(jobs).finally(() => inFlight.delete(p));
    inFlight.add(p);
    // Read the next batch while the stand-in applies this one, but never run far ahead.
    if (inFlight.size >= 3) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
