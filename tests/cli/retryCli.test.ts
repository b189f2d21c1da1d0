/**
 * `retry` as an operator runs it: a typo in a job id is said (exit 2), and with the daemon
 * running the jobs are handed to it, so the two never upload the same files.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFailureMarker } from "../../src/local/failureMarker.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { cleanEnv, DaemonProcess, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });

/** A finished job that carries a failure marker from an earlier run, and is not in Convex. */
async function markedJob(): Promise<PipelineJob> {
  const j = new PipelineJob(h.jobsDir);
  await j.runToSuccess();
  const outcome = await writeFailureMarker(j.dir, j.id, { reason: "[SOME_CODE] an earlier failure", attempts: 1, retryable: false });
  expect(outcome).not.toBe("unchanged");
  return j;
}

describe("celstate-sync retry", () => {
  it("retry › an unknown job id exits 2 with one NO_SUCH_JOB line naming it, and nothing else is touched", async () => {
    const j = await markedJob();
    const r = await runCli(["retry", j.id, "no-such-job-3f6c", "--jobs-dir", h.jobsDir], { env: env(), cwd: h.jobsDir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^celstate-sync: \[NO_SUCH_JOB\] no such job in .*: no-such-job-3f6c \(/),
    ]);
    // The known one was not retried either: the command refused as a whole.
    expect(await h.getPublic(j.id)).toBeNull();
  });

  it("retry › without a daemon it syncs the job itself and says so in a backfill summary", async () => {
    const j = await markedJob();
    const r = await runCli(["retry", j.id, "--json", "--jobs-dir", h.jobsDir], { env: env(), cwd: h.jobsDir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ jobs: 1, syncedNow: 1, failed: [] });
    expect(await h.getPublic(j.id)).not.toBeNull();
  });

  it("retry › with the daemon running, the job is handed to it: retry uploads nothing, the daemon syncs it once", async () => {
    const j = await markedJob();
    // A daemon that unwatches a quiet job at once (the active window 0), so the marker's removal
    // raises no event of its own: only retry's hand-over (it touches the job folder) tells it.
    const cwd = await mkdtemp(path.join(tmpdir(), "celstate-retry-cwd-"));
    await writeFile(path.join(cwd, "celstate-sync.config.json"), JSON.stringify({ watch: { activeWindowMs: 0 } }));
    const daemon = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir, "--log-level", "info", "--health-port", "0"], { env: env(), cwd });
    try {
      await daemon.waitForLog("watching");
      const health = daemon.stderr.split("\n").find((l) => l.includes('"msg":"health and metrics on 127.0.0.1"'))!;
      const { port } = JSON.parse(health) as { port: number };
      const watched = async () =>
        Number(/^celstate_sync_watched_jobs (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
      await waitFor(async () => (await watched()) === 0, { what: "the parked job to be unwatched" });
      // Parked: the daemon publishes the marked record as it is (failed) and uploads nothing for it.
      await waitFor(async () => (await h.getPublic(j.id))?.status === "failed", { what: "the marked record to be published" });
      const uploadsBefore = h.standin.stats().uploads;
      const r = await runCli(["retry", j.id, "--json", "--jobs-dir", h.jobsDir], { env: env(), cwd: h.jobsDir });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ handedToDaemon: [j.id] });
      await waitFor(async () => (await h.getPublic(j.id))?.status === "succeeded", { what: "the daemon to sync the retried job" });
      // The job's files went up once, by the daemon alone: one upload per stored asset row.
      const rows = (await (await fetch(`${h.standin.url}/_standin/export?table=jobAssets`)).text())
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as { jobId: string })
        .filter((row) => row.jobId === j.id);
      expect(rows.length).toBeGreaterThan(0);
      expect(h.standin.stats().uploads - uploadsBefore).toBe(rows.length);
    } finally {
      await daemon.stop();
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
