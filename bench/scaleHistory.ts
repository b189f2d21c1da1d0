/**
 * The history of the "history at scale" scenario: up to a million small finished jobs, alike
 * but for their ids, so that a remote can answer for any of them from the id alone
 * (SimulatedRemote.ts) and the numbers are the daemon's own, not a store's. Each job is a
 * job.json and two tiny PNGs (output and debug), dated long ago; the folder grows in place
 * from one size to the next.
 */
import { createHash } from "node:crypto";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isoToMicros } from "../convex/lib/time.js";
import { stringifyPythonJson } from "../src/local/pythonJson.js";
import { sourceHashOf } from "../src/local/readJob.js";
import type { RemoteJobState } from "../src/remote/ConvexGateway.js";
import { PipelineJob } from "../tests/helpers/pipelineWriter.js";
import { makeRandomPng } from "./fastPng.js";

const PREFIX = "5ca1e000-0000-4000-8000-";
const NAME = "tile";
const AT_ISO = "2026-01-01T00:00:00.000000+00:00";
/** Every PNG's mtime (whole ms, so the stat reads it back exactly). */
const MTIME_MS = Date.parse("2026-01-01T00:00:01Z");
const PNG = makeRandomPng(96);
const PNG_SHA = createHash("sha256").update(PNG).digest("hex");
const FILES = [`${NAME}.png`, `${NAME}_debug.png`] as const;
const ROLES = ["output_png", "debug_png"] as const;

/** The n-th job's id: UUID-shaped, recognisable by its prefix. */
export function scaleJobId(n: number): string {
  return PREFIX + n.toString(16).padStart(12, "0");
}

export function isScaleJobId(id: string): boolean {
  return id.startsWith(PREFIX);
}

let template: Record<string, unknown> | null = null;

/** The job.json text of a job of this history. */
export function scaleJobJson(id: string): string {
  if (template === null) {
    const job = new PipelineJob("/nonexistent", { id: scaleJobId(0), name: NAME, withMask: false });
    template = {
      ...job.record,
      created_at: AT_ISO,
      status: "succeeded",
      progress_stage: "completed",
      component: job.component(),
      updated_at: AT_ISO,
    };
  }
  return stringifyPythonJson({ ...template, id });
}

/** What a deployment holding this job in sync would answer for it (`sync:getStates`). */
export function scaleJobState(id: string): RemoteJobState {
  return {
    jobId: id,
    updatedAtUs: isoToMicros(AT_ISO)!,
    recordHash: "0".repeat(64),
    sourceHash: sourceHashOf(Buffer.from(scaleJobJson(id))),
    status: "succeeded",
    assets: FILES.map((filename, k) => ({
      role: ROLES[k]!,
      filename,
      storageId: `simulated_${k}` as RemoteJobState["assets"][number]["storageId"],
      contentType: "image/png",
      bytes: PNG.length,
      sha256: PNG_SHA,
      sourceMtimeMs: MTIME_MS,
    })),
  };
}

/** Writes jobs `from` … `to - 1` into `jobsDir` (synchronous calls: at this count the event loop's overhead per file would dominate). */
export function writeScaleJobs(jobsDir: string, from: number, to: number): void {
  const when = new Date(MTIME_MS);
  for (let n = from; n < to; n++) {
    const id = scaleJobId(n);
    const dir = path.join(jobsDir, id);
    mkdirSync(path.join(dir, "outputs"), { recursive: true });
    for (const f of FILES) {
      const file = path.join(dir, "outputs", f);
      writeFileSync(file, PNG);
      utimesSync(file, when, when);
    }
    const record = path.join(dir, "job.json");
    writeFileSync(record, scaleJobJson(id));
    utimesSync(record, when, when);
  }
}
