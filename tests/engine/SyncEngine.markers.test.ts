/**
 * The failure marker is written only when the job's own data is at fault. A bug of ours, a
 * function failure without data, a paused deployment: retried, reported, never marked. Against
 * the stand-in, with gateways that fail the way such errors arrive.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { FunctionFailure, HttpStatusError } from "../../src/errors/classifyError.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import type { CommitArgs, ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const RETRY = { baseMs: 1, maxMs: 20, maxAttempts: 3, maxRetryMs: 60_000 };

/**
 * A real gateway whose commits run `fail` first for each job (throw to fail the call): a batch
 * fails whole when any of its jobs does, as one transaction does.
 */
function failingCommits(gateway: ConvexGateway, fail: (args: CommitArgs) => void): ConvexGateway & { commits: () => number } {
  let commits = 0;
  return Object.assign(Object.create(gateway) as ConvexGateway, {
    commit: async (args: CommitArgs) => {
      commits++;
      fail(args);
      return await gateway.commit(args);
    },
    commitMany: async (batch: CommitArgs[]) => {
      commits += batch.length;
      for (const args of batch) fail(args);
      return await gateway.commitMany(batch);
    },
    commits: () => commits,
  });
}

async function finishedJobs(n: number): Promise<PipelineJob[]> {
  const jobs = Array.from({ length: n }, () => new PipelineJob(h.jobsDir, { pngBytes: 2_000 }));
  for (const j of jobs) await j.runToSuccess();
  return jobs;
}

const jobJson = (j: PipelineJob) => readFile(path.join(j.dir, "job.json"), "utf8");

describe("SyncEngine › failure markers", () => {
  it("SyncEngine › a bug of ours (TypeError) never marks: retried with backoff, counted, reported stuck past the limit", async () => {
    const [job] = await finishedJobs(1);
    const before = await jobJson(job!);
    const gateway = failingCommits(h.gateway(), () => {
      throw new TypeError("Cannot read properties of undefined (reading 'role')");
    });
    const config = h.config({ retry: RETRY });
    const { summary, results } = await runBackfill({ config, gateway, log: h.log, jobIds: [job!.id] });
    expect(await jobJson(job!)).toBe(before); // job.json untouched: no marker
    expect(gateway.commits()).toBe(RETRY.maxAttempts);
    expect(summary.failed).toEqual([]);
    expect(summary.stuck).toHaveLength(1);
    expect(summary.stuck[0]).toMatchObject({ jobId: job!.id, code: "INTERNAL" });
    expect(summary.stuck[0]!.reason).toContain("no marker");
    expect(results.get(job!.id)?.status).toBe("stuck");
  });

  it("SyncEngine › a data-less Server Error for one job while the deployment answers: that job alone retried, the others synced, no marker", async () => {
    const jobs = await finishedJobs(4);
    const bad = jobs[0]!;
    const before = await jobJson(bad);
    const gateway = failingCommits(h.gateway(), (args) => {
      if (args.job.jobId === bad.id) throw new FunctionFailure("sync:commit", "[Request ID: 5f1e] Server Error");
    });
    const config = h.config({ retry: RETRY });
    const { summary } = await runBackfill({ config, gateway, log: h.log, jobIds: jobs.map((j) => j.id) });
    expect(summary.syncedNow).toBe(3);
    expect(summary.stuck.map((s) => s.jobId)).toEqual([bad.id]);
    expect(summary.stuck[0]!.code).toBe("SERVER_ERROR");
    expect(summary.deploymentDown).toBeNull();
    expect(await jobJson(bad)).toBe(before);
  });

  it("SyncEngine › a deployment paused during a backfill: no marker, the run stops after retry.maxRetryMs with a summary saying so", async () => {
    const jobs = await finishedJobs(6);
    const before = await Promise.all(jobs.map(jobJson));
    h.standin.setFaults({ paused: true });
    const config = h.config({ retry: { ...RETRY, maxRetryMs: 1_500 } });
    const started = Date.now();
    const { summary, fatal } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: jobs.map((j) => j.id) });
    expect(fatal).toBeNull();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(summary.deploymentDown?.code).toBe("SERVER_ERROR");
    expect(summary.failed).toEqual([]);
    expect(summary.stuck).toEqual([]);
    expect(summary.pending).toHaveLength(6);
    expect(summary.pending[0]!.reason).toContain("the deployment was not running");
    expect(await Promise.all(jobs.map(jobJson))).toEqual(before);
  });

  it("SyncEngine › a file that keeps changing while it is uploaded is the job's own: RETRIES_EXHAUSTED and a marker", async () => {
    const [job] = await finishedJobs(1);
    const gateway = Object.assign(Object.create(h.gateway()) as ConvexGateway, {
      upload: async () => {
        throw new HttpStatusError(400, JSON.stringify({ code: "Sha256Mismatch", message: "x" }));
      },
    });
    const { summary } = await runBackfill({ config: h.config({ retry: RETRY }), gateway, log: h.log, jobIds: [job!.id] });
    expect(summary.failed.map((f) => [f.code, f.marker])).toEqual([["RETRIES_EXHAUSTED", "written"]]);
    const marked = parsePythonJson(await jobJson(job!)) as { sync_failure: { reason: string } };
    expect(marked.sync_failure.reason).toContain("FILE_CHANGED");
  });
});
