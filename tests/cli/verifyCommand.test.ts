import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFailureMarker } from "../../src/local/failureMarker.js";
import type { VerifyReport } from "../../src/ops/verifyJobs.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";
import { alterRemoteRecord, replaceRemoteBlob, runMain, syncAll, useEmptyCwd } from "./operatorHarness.js";

useEmptyCwd();
let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const verify = (...args: string[]) => runMain(["verify", "--jobs-dir", h.jobsDir, "--convex-url", h.standin.url, ...args]);

/** A succeeded job, one failed by a rate limit (retry_after), one still queued (no component). */
async function layOutJobs(): Promise<{ done: PipelineJob; limited: PipelineJob; queued: PipelineJob }> {
  const done = new PipelineJob(h.jobsDir, { pngBytes: 40_000 });
  await done.runToSuccess();
  const limited = new PipelineJob(h.jobsDir);
  await limited.queued();
  await limited.running();
  await limited.failed("Rate Limit Exceeded. Please try again later.", 30);
  const queued = new PipelineJob(h.jobsDir, { withMask: false });
  await queued.queued();
  await syncAll(h);
  return { done, limited, queued };
}

describe("celstate-sync verify (against the stand-in)", () => {
  it("verify › a faithful mirror verifies clean and exits 0", async () => {
    await layOutJobs();
    const r = await verify();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verified 3 jobs: 3 ok, 0 with mismatches, 0 parked, 0 unreadable \(3 assets downloaded/);
  });

  it("verify › catches a corrupted remote blob, naming the job and the file (exit 1)", async () => {
    const { done } = await layOutJobs();
    const name = `${done.name}.png`;
    const bytes = await readFile(path.join(done.dir, "outputs", name));
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length >> 1]! ^= 0xff; // same length, different content
    await replaceRemoteBlob(h, done.id, name, corrupt);

    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("1 with mismatches");
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("mismatch"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(done.id);
    expect(lines[0]).toContain(`asset ${name}: expected sha256 `);
  });

  it("verify › catches a blob of the wrong length", async () => {
    const { done } = await layOutJobs();
    const name = `${done.name}_debug.png`;
    await replaceRemoteBlob(h, done.id, name, Buffer.from("short"));
    const r = await verify("--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as VerifyReport;
    const job = report.results.find((x) => x.jobId === done.id)!;
    expect(job.state).toBe("mismatch");
    expect(job.mismatches).toContainEqual({ field: `asset ${name}`, expected: expect.stringMatching(/^\d+ bytes$/), got: "5 bytes" });
  });

  it("verify › catches an altered remote record, naming each field with expected and got (exit 1)", async () => {
    const { done } = await layOutJobs();
    await alterRemoteRecord(h, done.id, { status: "failed", error: "[TraceID: x] tampered" });
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`mismatch   ${done.id} status: expected "succeeded", got "failed"`);
    expect(r.stdout).toContain(`mismatch   ${done.id} error: expected null, got "[TraceID: x] tampered"`);
  });

  it("verify › catches a retry_after the remote record lost", async () => {
    const { limited } = await layOutJobs();
    // The Convex client drops undefined fields: the newer record has no retryAfter.
    await alterRemoteRecord(h, limited.id, { retryAfter: undefined });
    const r = await verify("--job", limited.id);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`mismatch   ${limited.id} retryAfter: expected 30, got absent`);
  });

  it("verify › a marked job is parked once the public view shows it failed, and a mismatch while it does not", async () => {
    const { done } = await layOutJobs();
    expect(await writeFailureMarker(done.dir, done.id, { reason: "test reason", attempts: 3, retryable: false })).toBe("written");
    // Not published yet: the public view still says succeeded, which job.json no longer does.
    const stale = await verify("--job", done.id);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain(`mismatch   ${done.id} status`);
    await syncAll(h, { allowParked: true });
    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 parked");
    expect(r.stdout).toContain(`parked     ${done.id}: failure marker: test reason`);
  });

  it("verify › a job that is not in the deployment is a mismatch; an unparsable job.json is unreadable", async () => {
    await layOutJobs();
    const fresh = new PipelineJob(h.jobsDir);
    await fresh.queued();
    const r = await verify("--job", fresh.id, "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as VerifyReport;
    expect(report.results[0]!.mismatches[0]).toMatchObject({ field: "record", got: expect.stringContaining("not in the deployment") });

    await writeFile(path.join(fresh.dir, "job.json"), "{not json");
    const again = await verify("--job", fresh.id);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`unreadable ${fresh.id}: `);
    expect(again.stdout).toContain(`${fresh.id}/job.json`);
  });

  it("verify › without a Convex URL exits 2", async () => {
    const r = await runMain(["verify", "--jobs-dir", h.jobsDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no Convex deployment URL");
  });
});
