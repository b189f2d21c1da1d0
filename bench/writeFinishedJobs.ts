/**
 * History for the backfill scenarios: finished jobs written the way the pipeline leaves them
 * (PipelineJob's record and component, PNGs written in place in 64 KiB chunks, job.json and
 * trace.json through temp file + rename, NaN/Infinity in telemetry), with sizes drawn from a
 * seeded random source: an output and a debug PNG, a mask for about half of the jobs, and the
 * trace, so ~3.5 files a job. Files are dated `ageMs` in the past: history is old, which also
 * keeps the watch daemon from treating it as recently active.
 */
import { mkdir, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { nextIso, PipelineJob, writeInPlace, writeJsonAtomic } from "../tests/helpers/pipelineWriter.js";
import { makeRandomPng } from "./fastPng.js";
import { RandomSource } from "./randomSource.js";

export type FinishedJobSizes = { minPngBytes: number; maxPngBytes: number; maskShare: number };

export const DEFAULT_SIZES: FinishedJobSizes = { minPngBytes: 32 * 1024, maxPngBytes: 256 * 1024, maskShare: 0.5 };

export type AssetFile = { path: string; contentType: string };
export type WrittenJob = { id: string; assets: AssetFile[]; bytes: number };
export type WrittenJobs = { jobs: WrittenJob[]; files: number; bytes: number };

async function age(files: string[], ageMs: number): Promise<void> {
  const when = new Date(Date.now() - ageMs);
  await Promise.all(files.map((f) => utimes(f, when, when)));
}

/** What one job will hold, drawn in order from the random source so every run writes the same. */
export type FinishedJobSpec = { withMask: boolean; pngBytes: number[] };

export function drawSpecs(count: number, rng: RandomSource, sizes: FinishedJobSizes = DEFAULT_SIZES): FinishedJobSpec[] {
  return Array.from({ length: count }, () => {
    const withMask = rng.next() < sizes.maskShare;
    return { withMask, pngBytes: Array.from({ length: withMask ? 3 : 2 }, () => rng.int(sizes.minPngBytes, sizes.maxPngBytes)) };
  });
}

/** Writes one finished (succeeded, traced) job; returns its asset files and their total bytes. */
export async function writeFinishedJob(jobsDir: string, spec: FinishedJobSpec, ageMs = 3_600_000): Promise<WrittenJob> {
  const job = new PipelineJob(jobsDir, { withMask: spec.withMask });
  const out = path.join(job.dir, "outputs");
  await mkdir(out, { recursive: true });
  const assets: AssetFile[] = [];
  let bytes = 0;
  for (const [i, name] of job.assetNames.entries()) {
    const png = makeRandomPng(spec.pngBytes[i]!);
    const file = path.join(out, name);
    await writeInPlace(file, png);
    assets.push({ path: file, contentType: "image/png" });
    bytes += png.length;
  }
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
  const trace = path.join(job.dir, "trace", "trace.json");
  assets.push({ path: trace, contentType: "application/json" });
  bytes += (await stat(trace)).size;
  await age([...assets.map((a) => a.path), path.join(job.dir, "job.json")], ageMs);
  return { id: job.id, assets, bytes };
}

/** Writes `count` finished jobs, `concurrency` at a time. */
export async function writeFinishedJobs(
  jobsDir: string,
  count: number,
  opts: { seed?: number; sizes?: FinishedJobSizes; ageMs?: number; concurrency?: number } = {},
): Promise<WrittenJobs> {
  const specs = drawSpecs(count, new RandomSource(opts.seed ?? 20261125), opts.sizes);
  const jobs: WrittenJob[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      jobs[i] = await writeFinishedJob(jobsDir, specs[i]!, opts.ageMs);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
  return { jobs, files: jobs.reduce((n, j) => n + j.assets.length, 0), bytes: jobs.reduce((n, j) => n + j.bytes, 0) };
}
