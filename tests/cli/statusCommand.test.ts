import { readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFailureMarker } from "../../src/local/failureMarker.js";
import type { StatusReport } from "../../src/ops/collectStatus.js";
import type { JobDetail } from "../../src/ops/describeJob.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { makePngOfSize } from "../helpers/png.js";
import { cleanEnv, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";
import { alterRemoteRecord, runMain, syncAll, useEmptyCwd } from "./operatorHarness.js";

useEmptyCwd();
let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const status = (...args: string[]) => runMain(["status", "--jobs-dir", h.jobsDir, "--convex-url", h.standin.url, ...args]);

async function synced(n: number): Promise<PipelineJob[]> {
  const jobs = Array.from({ length: n }, () => new PipelineJob(h.jobsDir));
  for (const j of jobs) await j.runToSuccess();
  await syncAll(h);
  return jobs;
}

describe("celstate-sync status (against the stand-in)", () => {
  it("status › everything synced is in sync and exits 0", async () => {
    await synced(2);
    const r = await status();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2 jobs\n {2}in sync {7}2\n {2}would sync {4}0\n {2}pending {7}0\n {2}parked {8}0\n {2}failed {8}0\n$/);
  });

  it("status › counts a mix (in sync, a re-rendered output, marker, unparsable job.json), names the unparsable file, changes nothing", async () => {
    const [clean, changed, marked] = await synced(3);
    // A new output: same name, other bytes and size (the pipeline re-rendered it).
    await writeFile(path.join(changed!.dir, "outputs", `${changed!.name}.png`), makePngOfSize(12_345, 99));
    // Dated a minute back: finished being written (settled), so "would sync", not "pending".
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(path.join(changed!.dir, "outputs", `${changed!.name}.png`), minuteAgo, minuteAgo);
    expect(await writeFailureMarker(marked!.dir, marked!.id, { reason: "oversize asset", attempts: 1, retryable: false })).toBe("written");
    const broken = new PipelineJob(h.jobsDir);
    await broken.queued();
    await writeFile(path.join(broken.dir, "job.json"), '{"id": "x", oops');
    const before = { commits: h.standin.commits().length, uploads: h.standin.stats() };
    const texts = await Promise.all([marked!, broken].map((j) => readFile(path.join(j.dir, "job.json"), "utf8")));

    const r = await status("--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as StatusReport;
    expect(report.jobs).toBe(4);
    expect(report.counts).toEqual({
      "in-sync": 1,
      "would-sync": 1,
      pending: 0,
      parked: 1,
      failed: 1,
      stuck: 0,
      "remote-ahead": 0,
      gone: 0,
    });
    const by = Object.fromEntries(report.entries.map((e) => [e.jobId, e]));
    expect(by[clean!.id]).toBeUndefined(); // in-sync jobs are listed only with --all
    expect(by[changed!.id]).toMatchObject({ state: "would-sync" });
    expect(by[changed!.id]!.detail).toMatch(new RegExp(`outputs/${changed!.name}\\.png`));
    expect(by[marked!.id]).toMatchObject({ state: "parked", detail: "failure marker: oversize asset" });
    expect(by[broken.id]).toMatchObject({ state: "failed", code: "JOB_JSON_UNPARSABLE", file: `${broken.id}/job.json` });
    expect(by[broken.id]!.detail).toContain(`${broken.id}/job.json`);

    // Read-only: no commit, no upload, job.json files untouched.
    expect(h.standin.commits().length).toBe(before.commits);
    expect(h.standin.stats()).toMatchObject({ uploads: before.uploads.uploads });
    expect(await Promise.all([marked!, broken].map((j) => readFile(path.join(j.dir, "job.json"), "utf8")))).toEqual(texts);
  });

  it("status › --all prints one line per job; the human summary names the jobs not in sync", async () => {
    const [clean, marked] = await synced(2);
    await writeFailureMarker(marked!.dir, marked!.id, { reason: "oversize asset", attempts: 1, retryable: false });
    const all = await status("--all");
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`in sync       ${clean!.id}: in sync`);
    expect(all.stdout).toContain(`parked        ${marked!.id}: failure marker: oversize asset (run \`celstate-sync retry ${marked!.id}\`)`);
    const summary = await status();
    expect(summary.stdout).not.toContain(clean!.id);
    expect(summary.stdout).toContain(marked!.id);
  });

  it("status › --job shows the stored fields next to job.json's and the timeline: each stage once, with its time, and the trace", async () => {
    const job = new PipelineJob(h.jobsDir);
    // Synced at every stage, as the daemon would see a live job, then twice more (a restart's
    // re-check and a second daemon): the timeline holds each transition once.
    await job.queued();
    await syncAll(h);
    await job.running();
    await syncAll(h);
    await job.processing();
    await syncAll(h);
    await job.succeeded();
    await job.trace();
    await syncAll(h);
    await syncAll(h);
    await syncAll(h);

    const r = await status("--job", job.id, "--json");
    expect(r.code).toBe(0);
    const { details } = JSON.parse(r.stdout) as { details: JobDetail[] };
    const [d] = details;
    expect(d!.stages.map((s) => `${s.status}/${s.progressStage}`)).toEqual([
      "queued/initialized",
      "running/generating_passes",
      "running/processing_matting",
      "succeeded/completed",
    ]);
    expect(d!.stages.slice(0, -1).every((s) => typeof s.ms === "number" && s.ms >= 0)).toBe(true);
    expect(d!.timeline.filter((e) => e.kind === "trace").map((e) => (e.payload as { eventType: string }).eventType)).toEqual(["output"]);
    const rec = parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
    const updated = d!.fields.find((f) => f.field === "updated_at")!;
    expect(updated).toMatchObject({ local: rec.updated_at, same: true });
    expect(updated.deployment).toBe(`${String(rec.updated_at)} (updatedAt ${Date.parse(String(rec.updated_at))})`);
    expect(d!.fields.every((f) => f.same)).toBe(true);

    const text = await status("--job", job.id);
    expect(text.stdout).toContain(`job ${job.id}`);
    expect(text.stdout).toMatch(/stages \(4\)/);
    expect(text.stdout).toMatch(/queued \/ initialized\s+\d/);
    expect(text.stdout).toMatch(/trace\s+output/);
  });

  it("status › a record change in job.json is would-sync; --job limits the run to that job", async () => {
    const [a, b] = await synced(2);
    await a!.failed("Rate Limit Exceeded.", 30);
    const r = await status("--job", a!.id, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as StatusReport;
    expect(report.jobs).toBe(1);
    expect(report.entries).toEqual([expect.objectContaining({ jobId: a!.id, state: "would-sync", detail: "would commit the record" })]);
    const other = await status("--job", b!.id);
    expect(other.code).toBe(0);
    expect(other.stdout).toContain(`in sync       ${b!.id}`);
  });

  it("status › a remote record newer than job.json is remote-ahead", async () => {
    const [a] = await synced(1);
    await alterRemoteRecord(h, a!.id, { error: "[TraceID: x] from elsewhere" });
    const r = await status("--json");
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as StatusReport).counts["remote-ahead"]).toBe(1);
  });

  it("status › a refused token stops the run with exit 2, the token never printed", async () => {
    await synced(1);
    // A child process: in this one the stand-in and the CLI share CELSTATE_SYNC_TOKEN.
    const r = await runCli(["status", "--jobs-dir", h.jobsDir], {
      env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: "wrong-token-value" }),
      cwd: h.jobsDir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("UNAUTHORIZED");
    expect(r.stdout + r.stderr).not.toContain("wrong-token-value");
  });

  it("status › --help shows the states, an example and the exit codes", async () => {
    const r = await runMain(["status", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:\n  $ celstate-sync status");
    expect(r.stdout).toContain("remote ahead");
    expect(r.stdout).toContain("Exit status: 0 every job in sync, 1 some job is not, 2 usage or configuration error.");
  });
});
