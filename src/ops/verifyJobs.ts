/**
 * `verify` as a function: for each job, read job.json and the public record (`jobs:getPublic`,
 * the surface the external API serves), compare them (`comparePublicJob`), then download every
 * asset URL and compare length and sha256 with the local file. Read-only on both sides.
 *
 * A job whose job.json shows a failure marker is "parked" when the public view agrees with it
 * (the daemon publishes the marked record: failed, no component), and a mismatch otherwise. A job that cannot be read
 * locally is "unreadable" and, like a mismatch, makes the run fail: nothing was verified.
 * Errors talking to the deployment stop the run (they are not about one job).
 */
import { classifyError } from "../errors/classifyError.js";
import { hashFile } from "../local/hashFile.js";
import { readLocalJob } from "../local/readJob.js";
import type { LocalJob } from "../local/types.js";
import { errorLine } from "./classifyJobStatus.js";
import { compareAsset, type Digest } from "./compareAsset.js";
import { type AssetUrl, comparePublicJob, type Mismatch } from "./comparePublicJob.js";
import { downloadDigest } from "./downloadDigest.js";
import { countByState, type JobReport, type JobRunOptions } from "./JobReport.js";
import { mapLimit } from "./mapLimit.js";
import { readOnlyGateway } from "./readOnlyGateway.js";

export const VERIFY_STATES = ["ok", "mismatch", "parked", "unreadable"] as const;
export type VerifyState = (typeof VERIFY_STATES)[number];

export type JobVerification = {
  jobId: string;
  state: VerifyState;
  mismatches: Mismatch[];
  /** Why a job is parked or unreadable. */
  detail?: string;
  assetsChecked: number;
  bytesDownloaded: number;
};

export type VerifyReport = JobReport<VerifyState> & {
  results: JobVerification[];
  bytesDownloaded: number;
};

export type VerifyOptions = JobRunOptions & {
  /** For tests: the fetch used to download assets. */
  fetch?: typeof fetch;
};

type Deps = Required<Pick<VerifyOptions, "config" | "gateway">> & Pick<VerifyOptions, "fetch" | "log">;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function checkAsset(deps: Deps, local: LocalJob, asset: AssetUrl): Promise<{ mismatches: Mismatch[]; bytes: number }> {
  const field = `asset ${asset.filename}`;
  const file = local.files.find((f) => f.filename === asset.filename && f.role !== "trace_json");
  if (file === undefined) {
    return { mismatches: [{ field, expected: `a local file named ${asset.filename}`, got: "no such file in the job folder" }], bytes: 0 };
  }
  const [mine, theirs] = await Promise.allSettled([
    hashFile(local.dir, file),
    downloadDigest(asset.url, {
      timeoutMs: deps.config.uploadTimeoutMs,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    }),
  ]);
  const mismatches: Mismatch[] = [];
  if (mine.status === "rejected") {
    mismatches.push({ field, expected: `the local file ${local.jobId}/${file.relPath} hashed`, got: errorText(mine.reason) });
  }
  if (theirs.status === "rejected") {
    mismatches.push({ field, expected: `the bytes at ${asset.url}`, got: errorText(theirs.reason) });
  }
  if (mine.status === "fulfilled" && theirs.status === "fulfilled") {
    mismatches.push(...compareAsset(asset.filename, mine.value as Digest, theirs.value));
  }
  return { mismatches, bytes: theirs.status === "fulfilled" ? theirs.value.bytes : 0 };
}

export async function verifyJob(deps: Deps, jobId: string): Promise<JobVerification> {
  const { config } = deps;
  const base = { jobId, mismatches: [] as Mismatch[], assetsChecked: 0, bytesDownloaded: 0 };
  let local: LocalJob;
  try {
    local = await readLocalJob(config.jobsDir, jobId, config.assets);
  } catch (e) {
    return { ...base, state: "unreadable", detail: errorLine(classifyError(e, { jobId })) };
  }

  let pub: unknown;
  try {
    pub = await deps.gateway.getPublic(jobId);
  } catch (e) {
    throw classifyError(e, { jobId });
  }
  const { mismatches, assets } = comparePublicJob(pub, local.record, { jobsDir: config.jobsDir });
  const checked = await Promise.all(assets.map((a) => checkAsset(deps, local, a)));
  for (const c of checked) mismatches.push(...c.mismatches);
  // A marked job's record is published as it is (failed): it is parked when public agrees.
  const agreed = local.marker === null ? "ok" : "parked";
  return {
    ...base,
    state: mismatches.length === 0 ? agreed : "mismatch",
    ...(local.marker === null ? {} : { detail: `failure marker: ${local.marker.reason}` }),
    mismatches,
    assetsChecked: assets.length,
    bytesDownloaded: checked.reduce((n, c) => n + c.bytes, 0),
  };
}

export async function verifyJobs(opts: VerifyOptions): Promise<VerifyReport> {
  const deps: Deps = { ...opts, gateway: readOnlyGateway(opts.gateway) };
  const results = await mapLimit(opts.jobIds, opts.config.concurrency, async (jobId) => {
    const r = await verifyJob(deps, jobId);
    if (r.state === "mismatch") opts.log?.debug({ jobId, mismatches: r.mismatches.length }, "verify: mismatch");
    return r;
  });
  return { ...countByState(VERIFY_STATES, results), results, bytesDownloaded: results.reduce((n, r) => n + r.bytesDownloaded, 0) };
}

/** 1 when any job differs or could not be read; parked jobs do not count. */
export function verifyExitCode(report: VerifyReport): number {
  return report.counts.mismatch + report.counts.unreadable > 0 ? 1 : 0;
}
