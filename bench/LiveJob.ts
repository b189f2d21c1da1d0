/**
 * A pipeline job for the live scenarios: PipelineJob's stages, records and write behaviour
 * (job.json by temp file + rename, PNGs in place in 64 KiB chunks, trace last), with outputs
 * of random pixels made by `makeRandomPng` (the test helper's pixel loop would keep a core busy
 * at 20 jobs/s and skew the daemon's figures). Every job.json rename is recorded with the
 * record's `updated_at` and the time the rename returned.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PipelineJob, writeInPlace } from "../tests/helpers/pipelineWriter.js";
import { makeRandomPng } from "./fastPng.js";
import type { RandomSource } from "./randomSource.js";

export type Rename = { jobId: string; updatedAt: string; stage: string; atMs: number };

export class LiveJob extends PipelineJob {
  constructor(
    jobsDir: string,
    private readonly rng: RandomSource,
    private readonly renames: Rename[],
    private readonly pngBytes: { min: number; max: number } = { min: 32 * 1024, max: 256 * 1024 },
  ) {
    super(jobsDir, { withMask: rng.next() < 0.5 });
  }

  override async writeOutputs(): Promise<void> {
    const out = path.join(this.dir, "outputs");
    await mkdir(out, { recursive: true });
    await mkdir(path.join(this.dir, "studio"), { recursive: true });
    await writeFile(path.join(this.dir, "studio", "white.png"), makeRandomPng(1024));
    for (const name of this.assetNames) {
      await writeInPlace(path.join(out, name), makeRandomPng(this.rng.int(this.pngBytes.min, this.pngBytes.max)));
    }
  }

  private note(): void {
    this.renames.push({
      jobId: this.id,
      updatedAt: String(this.record.updated_at),
      stage: String(this.record.progress_stage),
      atMs: Date.now(),
    });
  }

  override async queued(): Promise<void> {
    await super.queued();
    this.note();
  }

  override async running(): Promise<void> {
    await super.running();
    this.note();
  }

  override async processing(): Promise<void> {
    await super.processing();
    this.note();
  }

  override async succeeded(): Promise<void> {
    await super.succeeded();
    this.note();
  }

  override async failed(message?: string, retryAfter?: number): Promise<void> {
    await super.failed(message, retryAfter);
    this.note();
  }
}

/** Pause between two stages of one job, ms. */
export const STAGE_PAUSE_MS = { min: 50, max: 250 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Starts `rate` jobs a second for `durationMs`, each through every stage; resolves when all are done. */
export async function writeLiveJobs(
  jobsDir: string,
  rate: number,
  durationMs: number,
  rng: RandomSource,
  renames: Rename[],
): Promise<LiveJob[]> {
  const jobs: LiveJob[] = [];
  const running: Promise<void>[] = [];
  const t0 = Date.now();
  const total = Math.round((rate * durationMs) / 1000);
  for (let i = 0; i < total; i++) {
    await sleep(t0 + (i * 1000) / rate - Date.now());
    const job = new LiveJob(jobsDir, rng, renames);
    jobs.push(job);
    running.push(job.runToSuccess(() => sleep(rng.int(STAGE_PAUSE_MS.min, STAGE_PAUSE_MS.max))));
  }
  await Promise.all(running);
  return jobs;
}
