/**
 * Crash convergence: the daemon, run as its own process, is SIGKILLed 30 times at random
 * moments while the pipeline writes 300 jobs through every stage, and restarted after each
 * kill. At the end every job verifies (`celstate-sync verify`), and every blob uploaded by a
 * killed daemon whose commit never came is collected by the garbage collector.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import type { DaemonProcess } from "../helpers/runCli.js";
import { notMirrored, runVerify, sleep, startDaemon, writeDaemonConfig } from "./reliabilityKit.js";

const CRASH_JOBS = 300;
const CRASH_KILLS = 30;

let h: Harness;
let cwd: string;
beforeEach(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-crash-cwd-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

/** Runs one job through every stage with short random pauses between stages. */
async function writeJob(job: PipelineJob): Promise<void> {
  await job.runToSuccess(() => sleep(10 + Math.random() * 90));
}

describe("crash convergence", () => {
  it(`watch › ${CRASH_KILLS} SIGKILLs at random moments while ${CRASH_JOBS} jobs are written: every job verifies and every orphaned upload is collected`, async () => {
    await writeDaemonConfig(cwd, { settleMs: 50, logLevel: "info", retry: { baseMs: 50, maxMs: 1_000 } });
    const jobs = Array.from({ length: CRASH_JOBS }, () => new PipelineJob(h.jobsDir, { pngBytes: 6_000 }));
    const perCycle = Math.ceil(CRASH_JOBS / CRASH_KILLS);
    const writing: Array<Promise<void>> = [];
    const kills: Array<{ cycle: number; afterWatchingMs: number | null; code: number | null; signal: string | null; commits: number }> = [];

    try {
      for (let cycle = 0; cycle < CRASH_KILLS; cycle++) {
        const daemon: DaemonProcess = startDaemon(h, cwd);
        // This cycle's share of the pipeline starts as the daemon comes up: some writes land
        // before it watches, some while it reconciles, some while it is dead.
        writing.push(...jobs.slice(cycle * perCycle, (cycle + 1) * perCycle).map((j) => writeJob(j)));
        let afterWatchingMs: number | null = null;
        let exit: Awaited<ReturnType<typeof daemon.stop>>;
        try {
          // The kill's moment is the scenario's random draw, not a wait for the daemon.
          if (cycle % 4 === 3) {
            // Now and then, a kill anywhere from process start on (start-up, lock, handshake).
            await sleep(Math.random() * 2_000);
          } else {
            await daemon.waitForLog('"msg":"watching"', 60_000);
            afterWatchingMs = Math.round(Math.random() * 1_000);
            await sleep(afterWatchingMs);
          }
        } finally {
          exit = await daemon.stop("SIGKILL");
        }
        kills.push({ cycle, afterWatchingMs, code: exit.code, signal: exit.signal, commits: h.standin.commits().length });
        // It must have been our kill that ended it, not a crash or an exit of its own.
        expect(exit, `cycle ${cycle}: ${daemon.stderr.slice(0, 500)}`).toEqual({ code: null, signal: "SIGKILL" });
      }
    } finally {
      // The pipeline's writes finish either way, before the jobs folder is removed.
      await Promise.allSettled(writing);
    }
    await Promise.all(writing);

    const last = startDaemon(h, cwd);
    let lastExit: Awaited<ReturnType<typeof last.stop>>;
    try {
      await last.waitForLog('"msg":"start-up reconcile done; watching"', 90_000);
      const assetsOf = (id: string) => {
        const j = jobs.find((x) => x.id === id)!;
        return [...j.assetNames, "trace.json"];
      };
      await waitFor(async () => (await notMirrored(h, jobs, assetsOf)).length === 0, {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: "every job mirrored after the last restart",
      });
    } finally {
      lastExit = await last.stop("SIGTERM");
    }
    expect(lastExit.code, last.stderr.slice(0, 500)).toBe(0);
    const errors = last.stderr.split("\n").filter((l) => /"level":(50|60)/.test(l));
    expect(errors, "error or fatal lines in the run that converged").toEqual([]);

    const { code, report } = await runVerify(h, cwd);
    expect(report.counts).toEqual({ ok: CRASH_JOBS, mismatch: 0, parked: 0, unreadable: 0 });
    expect(code).toBe(0);

    // Every blob not referenced by an asset row is an upload whose commit never came.
    const before = h.standin.stats();
    const rows = before.documents.jobAssets;
    expect(rows).toBe(CRASH_JOBS * 4); // output, mask, debug, trace
    // A run that finds more schedules its own continuation (which deletes too); the walk is
    // over once a run finds no more: every blob before the cutoff was examined by then.
    for (let more = true; more; ) more = (await h.standin.runGc(0)).more;
    const after = h.standin.stats();
    const collected = before.blobs.count - after.blobs.count;
    expect(collected).toBe(before.blobs.count - rows);
    expect(after.blobs.count).toBe(after.documents.jobAssets);
    expect(after.documents.jobAssets).toBe(rows);
    // Only orphans went: every asset row still has its blob (none was collected by mistake).
    const rowsWithoutBlob = await h.standin.engine.convex.run(async (ctx) => {
      let missing = 0;
      for (const row of await ctx.db.query("jobAssets").collect()) if ((await ctx.db.system.get(row.storageId)) === null) missing++;
      return missing;
    });
    expect(rowsWithoutBlob).toBe(0);
    // Recorded for the README's reliability section.
    console.info(
      `crash convergence: ${kills.length} kills, ${before.uploads} uploads, ${before.blobs.count - rows} orphaned blobs collected, ` +
        `${h.standin.commits().length} commits`,
    );
  }, 300_000);
});
