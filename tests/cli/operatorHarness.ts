/**
 * Shared set-up for the operator-command tests: runs `main([...])` in this process with stdout
 * and stderr captured, syncs jobs with the real engine, and tampers with the stand-in through
 * the deployment's own token-checked functions (what a second writer or a broken deployment
 * could do), so `verify` has something real to catch.
 */
import { isoToMillis } from "../../convex/lib/time.js";
import { planShapeOf } from "../helpers/planShape.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { afterAll, beforeAll } from "vitest";
import { main } from "../../src/cli/main.js";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { readLocalJob } from "../../src/local/readJob.js";
import { nextIso } from "../helpers/pipelineWriter.js";
import type { Harness } from "../helpers/syncHarness.js";

export type MainResult = { code: number; stdout: string; stderr: string };

/**
 * Runs the CLI in-process from an empty working folder (no stray config or .env is read),
 * logs silenced unless the test passes its own --log-level.
 */
export async function runMain(args: string[]): Promise<MainResult> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  const withLog = args.includes("--log-level") || args.includes("--help") ? args : [...args, "--log-level", "silent"];
  try {
    const code = await main(["node", "celstate-sync", ...withLog]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}

/** An empty working folder for the whole file, so loadConfig finds no config or .env files. */
export function useEmptyCwd(): void {
  let dir = "";
  const before = process.cwd();
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "celstate-cwd-"));
    process.chdir(dir);
  });
  afterAll(async () => {
    process.chdir(before);
    await rm(dir, { recursive: true, force: true });
  });
}

/**
 * Syncs every job on disk with the real engine; fails the test if any job is not in sync after
 * (a marked job counts as in sync with `allowParked`: the engine publishes its failed record).
 */
export async function syncAll(h: Harness, opts: { allowParked?: boolean } = {}): Promise<void> {
  const config = h.config();
  const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
  const notInSync =
    summary.failed.length + summary.pending.length + (opts.allowParked ? 0 : summary.parked.length) + summary.remoteAhead.length;
  if (notInSync !== 0) throw new Error(`syncAll: not everything synced: ${JSON.stringify(summary)}`);
}

const generateUploadUrl = makeFunctionReference<"mutation">("assets:generateUploadUrl");
const saveAsset = makeFunctionReference<"mutation">("assets:save");
const upsertJob = makeFunctionReference<"mutation">("jobs:upsert");

/** Uploads `bytes` and points (jobId, filename) at them: the remote blob no longer matches the file. */
export async function replaceRemoteBlob(h: Harness, jobId: string, filename: string, bytes: Buffer): Promise<void> {
  const url = (await h.client.mutation(generateUploadUrl, { serviceToken: h.token })) as string;
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: bytes });
  if (!res.ok) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  const { storageId } = (await res.json()) as { storageId: string };
  await h.client.mutation(saveAsset, {
    serviceToken: h.token,
    jobId,
    role: "output_png",
    filename,
    storageId,
    contentType: "image/png",
    bytes: bytes.length,
  });
}

/** Writes a newer record for the job with these fields changed, as a second (plan-style) writer could. */
export async function alterRemoteRecord(h: Harness, jobId: string, change: Record<string, unknown>): Promise<void> {
  const local = await readLocalJob(h.jobsDir, jobId, h.config().assets);
  await h.client.mutation(upsertJob, { serviceToken: h.token, ...planShapeOf(local.record), updatedAt: isoToMillis(nextIso()), ...change });
}
