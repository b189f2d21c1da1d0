import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listedFilenames, withAssetUrls } from "../../convex/lib/componentText.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { readLocalJob } from "../../src/local/readJob.js";
import { verifyExitCode, verifyJobs } from "../../src/ops/verifyJobs.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { useTempJobsDir } from "../local/tempJobsDir.js";

const tmp = useTempJobsDir();
const ORIGIN = "http://storage.invalid/";

/** A deployment that mirrors the jobs faithfully: public records built from job.json, URLs served from disk. */
async function mirror(jobs: PipelineJob[], config: ReturnType<typeof loadConfig>["config"]) {
  const gateway = new FakeGateway();
  const records = gateway.publicJobs;
  const blobs = new Map<string, string>();
  for (const j of jobs) {
    const { record } = await readLocalJob(config.jobsDir, j.id, config.assets);
    let pub: string | null = null;
    if (typeof record.componentJson === "string") {
      for (const n of listedFilenames(record.componentJson)) blobs.set(`${ORIGIN}${j.id}/${n}`, path.join(j.dir, "outputs", n));
      pub = withAssetUrls(record.componentJson, (n) => `${ORIGIN}${j.id}/${n}`);
    }
    records.set(j.id, {
      jobId: j.id,
      status: record.status,
      error: record.error,
      component: pub,
      ...(record.retryAfter === undefined ? {} : { retryAfter: record.retryAfter }),
    });
  }
  const fakeFetch = (async (url: string | URL | Request) => {
    const file = blobs.get(String(url));
    return file === undefined ? new Response("missing", { status: 404 }) : new Response(await readFile(file));
  }) as typeof fetch;
  return { gateway, fetch: fakeFetch, records, blobs };
}

describe("verifyJobs", () => {
  it("verifyJobs › a faithful mirror is ok; each listed asset is downloaded once", async () => {
    const jobs = [new PipelineJob(tmp()), new PipelineJob(tmp(), { withMask: false })];
    for (const j of jobs) await j.runToSuccess();
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp() } }).config;
    const m = await mirror(jobs, config);
    const report = await verifyJobs({ config, gateway: m.gateway, fetch: m.fetch, jobIds: jobs.map((j) => j.id) });
    expect(report.counts).toEqual({ ok: 2, mismatch: 0, parked: 0, unreadable: 0 });
    expect(report.results.map((r) => r.assetsChecked)).toEqual([3, 2]);
    expect(verifyExitCode(report)).toBe(0);
  });

  it("verifyJobs › a listed asset missing on disk, and a URL that 404s, are mismatches naming the file", async () => {
    const j = new PipelineJob(tmp());
    await j.runToSuccess();
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp() } }).config;
    const m = await mirror([j], config);
    m.blobs.delete(`${ORIGIN}${j.id}/${j.name}.png`);
    await rm(path.join(j.dir, "outputs", `${j.name}_mask.png`));
    const report = await verifyJobs({ config, gateway: m.gateway, fetch: m.fetch, jobIds: [j.id] });
    expect(report.results[0]!.state).toBe("mismatch");
    expect(report.results[0]!.mismatches).toEqual([
      { field: `asset ${j.name}.png`, expected: `the bytes at ${ORIGIN}${j.id}/${j.name}.png`, got: "download failed: HTTP 404" },
      { field: `asset ${j.name}_mask.png`, expected: `a local file named ${j.name}_mask.png`, got: "no such file in the job folder" },
    ]);
    expect(verifyExitCode(report)).toBe(1);
  });

  it("verifyJobs › a named job without a folder is unreadable (exit 1)", async () => {
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp() } }).config;
    const m = await mirror([], config);
    const report = await verifyJobs({ config, gateway: m.gateway, fetch: m.fetch, jobIds: ["3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42"] });
    expect(report.results[0]).toMatchObject({ state: "unreadable", detail: expect.stringContaining("JOB_VANISHED") });
    expect(verifyExitCode(report)).toBe(1);
  });
});
