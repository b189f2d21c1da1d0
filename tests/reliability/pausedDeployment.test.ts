/**
 * A paused (disabled, over-quota) deployment answers every function call with a data-less
 * "Server Error" and every upload with 400 BackendIsNotRunning. The daemon, as its own process,
 * must ride it out: alive throughout, /readyz not ready meanwhile, no failure marker, and every
 * job the pipeline wrote meanwhile mirrored within 10 s of the resume, however long the pause.
 * Once paused from before the daemon starts, once paused in the middle of a run.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import { logLines, notMirrored, readRecord, sleep, startDaemon, writeDaemonConfig } from "./reliabilityKit.js";

/** Long enough for several doublings of the probe's pause (0.5, 1, 2, 4, then 5 s capped). */
const PAUSE_MS = 9_000;
/** The goal: everything mirrored within this time of the resume. */
const RESUMED_WITHIN_MS = 10_000;
/** The daemon's retry limit per job: a pause must outlast it without a marker. */
const MAX_ATTEMPTS = 3;

let h: Harness;
let cwd: string;
beforeEach(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-paused-cwd-"));
  // Short retry limits: a paused deployment must not be able to exhaust them into a marker.
  await writeDaemonConfig(cwd, {
    settleMs: 50,
    logLevel: "info",
    retry: { baseMs: 100, maxMs: 10_000, maxAttempts: MAX_ATTEMPTS, maxRetryMs: 2_000 },
  });
});
afterEach(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

const assetsOf = (jobs: PipelineJob[]) => (id: string) => [...jobs.find((j) => j.id === id)!.assetNames, "trace.json"];

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

function healthPort(stderr: string): number {
  const line = logLines(stderr).find((l) => l.msg === "health and metrics on 127.0.0.1");
  if (line === undefined) throw new Error("no health port logged yet");
  return line.port as number;
}

/** Function calls the stand-in has answered as a paused deployment. */
function pausedAnswers(): number {
  return Object.values(h.standin.stats().functionErrors).reduce((n, byCode) => n + (byCode.paused ?? 0), 0);
}

/**
 * Holds the pause until it has lasted PAUSE_MS (the probe's pause has grown to its cap) and the
 * daemon has kept asking through it: more calls answered "paused" than a job's retry limit.
 */
async function rideOutPause(pausedAt: number): Promise<void> {
  await waitFor(() => Date.now() - pausedAt >= PAUSE_MS && pausedAnswers() > MAX_ATTEMPTS, {
    timeoutMs: PAUSE_MS + 10_000,
    intervalMs: 100,
    what: `a pause of ${PAUSE_MS} ms with more than ${MAX_ATTEMPTS} calls answered "paused"`,
  });
}

async function expectNoMarkers(jobs: PipelineJob[]): Promise<void> {
  for (const j of jobs) expect((await readRecord(j.dir)).sync_failure, j.id).toBeUndefined();
}

describe("paused deployment", () => {
  it("watch › paused before the daemon starts, jobs written meanwhile: alive, not ready, no marker, all mirrored within 10 s of the resume", async () => {
    h.standin.setFaults({ paused: true });
    const pausedAt = Date.now();
    const daemon = startDaemon(h, cwd, ["--health-port", "0"]);
    try {
      await daemon.waitForLog('"msg":"health and metrics on 127.0.0.1"');
      const port = healthPort(daemon.stderr);
      await daemon.waitForLog("Convex not ready");
      const jobs = Array.from({ length: 12 }, () => new PipelineJob(h.jobsDir, { pngBytes: 6_000 }));
      await Promise.all(jobs.map((j) => j.runToSuccess(() => sleep(Math.random() * 40))));
      expect(await readyz(port)).toBe(503);
      await rideOutPause(pausedAt);
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();
      expect(await readyz(port)).toBe(503);

      h.standin.clearFaults();
      const resumedAt = Date.now();
      await waitFor(async () => (await notMirrored(h, jobs, assetsOf(jobs))).length === 0, {
        timeoutMs: RESUMED_WITHIN_MS,
        intervalMs: 100,
        what: "every job mirrored after the resume",
      });
      const tookMs = Date.now() - resumedAt;
      await waitFor(async () => (await readyz(port)) === 200, { timeoutMs: 5_000, what: "/readyz ready" });
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();
      await expectNoMarkers(jobs);
      const logs = logLines(daemon.stderr);
      expect(logs.filter((l) => l.marker === "written")).toEqual([]);
      console.info(`paused before start: ${PAUSE_MS} ms; ${jobs.length} jobs mirrored ${tookMs} ms after the resume`);
    } finally {
      const exit = await daemon.stop("SIGTERM");
      expect(exit.code).toBe(0);
    }
  }, 90_000);

  it("watch › paused in the middle of a run while the pipeline writes: no marker, no exit, all mirrored within 10 s of the resume", async () => {
    const daemon = startDaemon(h, cwd);
    try {
      await daemon.waitForLog('"msg":"start-up reconcile done; watching"', 60_000);
      const early = Array.from({ length: 6 }, () => new PipelineJob(h.jobsDir, { pngBytes: 6_000 }));
      await Promise.all(early.map((j) => j.runToSuccess()));
      await waitFor(async () => (await notMirrored(h, early, assetsOf(early))).length === 0, { timeoutMs: 20_000, what: "the first jobs" });

      h.standin.setFaults({ paused: true });
      const pausedAt = Date.now();
      // Some jobs are caught mid-way: written up to their outputs before, finished during the pause.
      const late = Array.from({ length: 12 }, () => new PipelineJob(h.jobsDir, { pngBytes: 6_000 }));
      for (let i = 0; i < late.length; i += 3) {
        await Promise.all(late.slice(i, i + 3).map((j) => j.runToSuccess(() => sleep(Math.random() * 60))));
        await sleep(400); // the pipeline's pace between batches
      }
      await daemon.waitForLog('"backendDown":true');
      await rideOutPause(pausedAt);
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();

      h.standin.clearFaults();
      const resumedAt = Date.now();
      const all = [...early, ...late];
      await waitFor(async () => (await notMirrored(h, all, assetsOf(all))).length === 0, {
        timeoutMs: RESUMED_WITHIN_MS,
        intervalMs: 100,
        what: "every job mirrored after the resume",
      });
      const tookMs = Date.now() - resumedAt;
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();
      await expectNoMarkers(all);
      const logs = logLines(daemon.stderr);
      expect(logs.filter((l) => l.marker === "written")).toEqual([]);
      expect(logs.some((l) => l.backendDown === true)).toBe(true);
      console.info(`paused mid-run: ${PAUSE_MS} ms; ${all.length} jobs mirrored ${tookMs} ms after the resume`);
    } finally {
      const exit = await daemon.stop("SIGTERM");
      expect(exit.code).toBe(0);
    }
  }, 90_000);
});
