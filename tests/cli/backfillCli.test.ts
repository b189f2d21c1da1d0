import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { cleanEnv, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });

describe("celstate-sync backfill (the command)", () => {
  it("backfill › syncs, prints one JSON summary with --json and exits 0", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const r = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--json"], { env: env() });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(summary).toMatchObject({ jobs: 1, syncedNow: 1, failed: [], filesUploaded: 4 });
    const again = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--json"], { env: env() });
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ inSync: 1, syncedNow: 0, filesUploaded: 0 });
  });

  it("backfill › exits 1 and names the job, the file and the reason when a job fails", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.queued();
    await writeFile(path.join(j.dir, "job.json"), "{not json");
    const r = await runCli(["backfill", "--jobs-dir", h.jobsDir], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`failed ${j.id}`);
    expect(r.stdout).toContain(`${j.id}/job.json`);
    expect(r.stdout).toContain("JOB_JSON_UNPARSABLE");
  });

  it("backfill › without a Convex URL says so and exits 2", async () => {
    const r = await runCli(["backfill", "--jobs-dir", h.jobsDir], { env: cleanEnv({ CELSTATE_SYNC_TOKEN: h.token }), cwd: h.jobsDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Convex deployment URL/);
  });

  it("backfill › a wrong token is refused with exit 2 and the token never printed", async () => {
    const r = await runCli(["backfill", "--jobs-dir", h.jobsDir], {
      env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: "wrong-token-value" }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("UNAUTHORIZED");
    expect(r.stdout + r.stderr).not.toContain("wrong-token-value");
  });

  it("backfill › a bad configuration value gets one clear line naming it and exit 2", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "celstate-cfg-"));
    try {
      await writeFile(path.join(dir, "celstate-sync.config.json"), JSON.stringify({ concurrency: 0 }));
      const r = await runCli(["backfill", "--jobs-dir", h.jobsDir], { env: env(), cwd: dir });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/`concurrency` in .*celstate-sync\.config\.json is invalid: .*got 0/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("backfill › an unknown flag is a usage error (exit 2)", async () => {
    const r = await runCli(["backfill", "--no-such-flag"], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
  });

  it("backfill › --help shows an example and the exit codes", async () => {
    const r = await runCli(["backfill", "--help"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:");
    expect(r.stdout).toContain("--dry-run");
    expect(r.stdout).toContain("Exit status");
  });
});
