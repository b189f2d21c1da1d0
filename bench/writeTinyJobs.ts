/**
 * Mass history for the scale scenarios: tens of thousands of small finished jobs (job.json,
 * a tiny output PNG and its debug PNG, no mask, no trace), written with synchronous calls
 * because at this count the event loop's overhead per file would dominate. These jobs are at
 * rest, so atomic replacement does not matter here. Every file is dated `ageMs` in the past.
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringifyPythonJson } from "../src/local/pythonJson.js";
import { nextIso, PipelineJob } from "../tests/helpers/pipelineWriter.js";
import { makeRandomPng } from "./fastPng.js";

export function writeTinyJobs(jobsDir: string, count: number, ageMs = 24 * 3_600_000): string[] {
  const when = new Date(Date.now() - ageMs);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const job = new PipelineJob(jobsDir, { withMask: false });
    const out = path.join(job.dir, "outputs");
    mkdirSync(out, { recursive: true });
    const component = job.component();
    const record = { ...job.record, status: "succeeded", progress_stage: "completed", component, updated_at: nextIso() };
    const files = [
      ...job.assetNames.map((name) => {
        const f = path.join(out, name);
        writeFileSync(f, makeRandomPng(96));
        return f;
      }),
      path.join(job.dir, "job.json"),
    ];
    writeFileSync(files[files.length - 1]!, stringifyPythonJson(record));
    for (const f of files) utimesSync(f, when, when);
    ids.push(job.id);
  }
  return ids;
}
