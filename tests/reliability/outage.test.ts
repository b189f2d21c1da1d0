/**
 * Outage: the stand-in refuses connections, then answers 503, while the pipeline keeps writing
 * and the daemon (its own process) keeps running. The daemon must not crash, its memory must
 * stay bounded, it must converge within seconds of the recovery, and however short its retry
 * limits, no job gets a failure marker: the deployment being down is never the job's fault.
 *
 * The 30 s refusal is scaled down to keep the suite short; the shape is kept.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import {
  logLines,
  notMirrored,
  readRecord,
  runVerify,
  sampleRss,
  sleep,
  standinAnswers,
  startDaemon,
  writeDaemonConfig,
} from "./reliabilityKit.js";

const REFUSE_MS = 6_000;
const UNAVAILABLE_MS = 4_000;
const MAX_ATTEMPTS = 3;
/** Peak resident memory allowed during the outage, and growth over the pre-outage level. */
const RSS_CEILING_KIB = 400 * 1024;
const RSS_GROWTH_KIB = 100 * 1024;

let h: Harness;
let cwd: string;
beforeEach(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-outage-cwd-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

async function writeJob(job: PipelineJob, pauseMs: number): Promise<void> {
  await job.runToSuccess(() => sleep(Math.random() * pauseMs));
}

describe("outage", () => {
  it(`watch › refusal for ${REFUSE_MS / 1000} s then 503s for ${UNAVAILABLE_MS / 1000} s while the pipeline writes: no crash, bounded memory, converges after recovery, no marker with a retry limit of ${MAX_ATTEMPTS}`, async () => {
    await writeDaemonConfig(cwd, {
      settleMs: 50,
      logLevel: "info",
      retry: { baseMs: 100, maxMs: 1_000, maxAttempts: MAX_ATTEMPTS, maxRetryMs: 10 * 60_000 },
    });
    const daemon = startDaemon(h, cwd);
    let rss: ReturnType<typeof sampleRss> | undefined;
    let samples: number[] = [];
    let exit: Awaited<ReturnType<typeof daemon.stop>>;
    const all: PipelineJob[] = [];
    let convergedMs = 0;
    try {
      await daemon.waitForLog('"msg":"start-up reconcile done; watching"', 60_000);
      const pid = daemon.child.pid!;

      const early = Array.from({ length: 20 }, () => new PipelineJob(h.jobsDir, { pngBytes: 8_000 }));
      await Promise.all(early.map((j) => writeJob(j, 30)));
      const assetsOf = (jobs: PipelineJob[]) => (id: string) => [...jobs.find((j) => j.id === id)!.assetNames, "trace.json"];
      await waitFor(async () => (await notMirrored(h, early, assetsOf(early))).length === 0, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: "the first jobs mirrored",
      });
      const sampler = sampleRss(pid, 100);
      rss = sampler;
      // The pre-outage level: a few samples before the faults start.
      await waitFor(() => sampler.taken() >= 5, { what: "five RSS samples before the outage" });

      // Refused first (the listener is closed), then 503 until the end of the second window.
      h.standin.setFaults([
        { refuse: true, durationMs: REFUSE_MS },
        { status: 503, durationMs: REFUSE_MS + UNAVAILABLE_MS },
      ]);
      // The pipeline keeps going: new jobs through every stage, and some finished jobs fail late,
      // its batches spread over the outage's length.
      const late = Array.from({ length: 40 }, () => new PipelineJob(h.jobsDir, { pngBytes: 8_000 }));
      for (let i = 0; i < late.length; i += 4) {
        await Promise.all(late.slice(i, i + 4).map((j) => writeJob(j, 60)));
        if (i % 8 === 0) await early[i / 4]!.failed("Rate Limit Exceeded. Please try again later.", 30);
        await sleep(Math.max(0, (REFUSE_MS + UNAVAILABLE_MS - 1_500) / 10 - 100));
      }
      await waitFor(() => standinAnswers(h), {
        timeoutMs: REFUSE_MS + UNAVAILABLE_MS + 5_000,
        intervalMs: 100,
        what: "the stand-in answering again after the outage",
      });
      const recoveredAt = Date.now();
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();

      all.push(...early, ...late);
      let stillBehind: string[] = [];
      await waitFor(
        async () => {
          stillBehind = await notMirrored(h, all, assetsOf(all));
          return stillBehind.length === 0;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: "convergence after the outage" },
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}; behind: ${stillBehind.join(", ")}\n${daemon.stderr.slice(-4000)}`);
      });
      convergedMs = Date.now() - recoveredAt;
      samples = await sampler.stop();
      expect(daemon.child.exitCode, daemon.stderr).toBeNull();
    } finally {
      await rss?.stop();
      exit = await daemon.stop("SIGTERM");
    }
    expect(exit.code).toBe(0);

    // Memory stayed bounded while requests failed for seconds.
    const baseline = samples[0]!;
    const peak = Math.max(...samples);
    expect(samples.length).toBeGreaterThan(20);
    expect(peak).toBeLessThan(RSS_CEILING_KIB);
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_KIB);

    // No marker anywhere, and no job given up for an outage.
    const logs = logLines(daemon.stderr);
    expect(logs.filter((l) => l.code === "RETRIES_EXHAUSTED" || l.marker === "written")).toEqual([]);
    for (const j of all) expect((await readRecord(j.dir)).sync_failure, j.id).toBeUndefined();
    expect(logs.some((l) => l.backendDown === true)).toBe(true);

    console.info(
      `outage: refused ${REFUSE_MS} ms + 503 ${UNAVAILABLE_MS} ms; ${all.length} jobs; converged ${convergedMs} ms after recovery; ` +
        `RSS ${Math.round(baseline / 1024)} → peak ${Math.round(peak / 1024)} MiB; 0 markers`,
    );
    const { code, report } = await runVerify(h, cwd);
    expect(report.counts).toEqual({ ok: all.length, mismatch: 0, parked: 0, unreadable: 0 });
    expect(code).toBe(0);
  }, 180_000);
});
