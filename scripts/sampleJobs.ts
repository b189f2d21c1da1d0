/**
 * `npm run sample-jobs -- <jobs folder> [count]`: plays the Celstate pipeline for the quick
 * start. Writes `count` jobs (default 3) through every stage, as the pipeline does: job.json
 * replaced by temp file + rename at each stage, PNGs written in place into outputs/, a trace in
 * trace/. The folder is created if it does not exist (only here: celstate-sync never creates a
 * jobs folder). Run it again while `watch` runs to see new jobs arrive live.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PipelineJob } from "../tests/helpers/pipelineWriter.js";

const NAMES = ["ivy_sign_frame", "oak_button", "moss_panel", "fern_badge", "reed_banner"];

async function main(argv: string[]): Promise<number> {
  const [dir, countText = "3"] = argv;
  const count = Number(countText);
  if (dir === undefined || !Number.isInteger(count) || count < 1) {
    process.stderr.write("usage: npm run sample-jobs -- <jobs folder> [count]\n");
    return 2;
  }
  const jobsDir = path.resolve(dir);
  await mkdir(jobsDir, { recursive: true });
  const jobs = Array.from(
    { length: count },
    (_, i) => new PipelineJob(jobsDir, { name: `${NAMES[i % NAMES.length]}_${Date.now().toString(36)}${i}` }),
  );
  await Promise.all(jobs.map((j) => j.runToSuccess()));
  for (const j of jobs) process.stdout.write(`wrote ${path.relative(process.cwd(), j.dir) || j.dir} (${j.name}, succeeded)\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
