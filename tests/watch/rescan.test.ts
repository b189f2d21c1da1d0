/**
 * The rescan, the safety net behind events: it queues exactly the jobs whose job.json,
 * outputs/ or trace/ changed since the previous pass over every job began (plus watched and
 * stuck ones), keeping nothing per job to know it. A PNG rewritten in place is not among them
 * (no ctime it looks at moves: tests/local/fileTimes.test.ts), which is why watched jobs are
 * always queued.
 */
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { FakeWatcherBackend } from "../helpers/fakeWatcherBackend.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { makePngOfSize } from "../helpers/png.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const SLACK_MS = 100;

describe("WatchDaemon › rescan", () => {
  it("rescan › queues the jobs changed since the previous pass began, and only them", async () => {
    const jobs = Array.from({ length: 8 }, () => new PipelineJob(h.jobsDir));
    for (const j of jobs) await j.runToSuccess();
    const { summary } = await runBackfill({ config: h.config(), gateway: h.gateway(), log: h.log, jobIds: await listJobIds(h.jobsDir) });
    expect(summary.syncedNow).toBe(jobs.length);
    // No job is recent enough to be watched after the start-up: only the rescan can see changes.
    // The slack still covers the kernel's coarse file clock (a change made just after a pass
    // began can carry a ctime a few ms before it), not the seconds since the jobs were written.
    const config = h.config({ watch: { rescanIntervalMs: 0, activeWindowMs: 0, maxWatchedJobs: 50 } });
    const daemon = new WatchDaemon({
      config,
      gateway: h.gateway(),
      backend: new FakeWatcherBackend(),
      log: h.log,
      rescanClockSlackMs: 100,
    });
    try {
      await daemon.start();
      await daemon.whenReady();
      expect(daemon.watchedJobs).toBe(0);
      expect(await daemon.rescan()).toBe(0);

      const [renamed, added, inPlace] = jobs;
      await renamed!.failed("a late failure"); // job.json replaced by rename
      await writeFile(path.join(added!.dir, "outputs", `${added!.name}_extra.png`), makePngOfSize(3_000, 7)); // a new file
      const [png] = (await readdir(path.join(inPlace!.dir, "outputs"))).filter((f) => f.endsWith(".png"));
      await writeFile(path.join(inPlace!.dir, "outputs", png!), makePngOfSize(2_500, 9)); // rewritten in place
      const since = Date.now();
      expect(await daemon.rescan()).toBe(2);
      await waitFor(() => new Set(h.standin.commits(since).map((c) => c.jobId)).size === 2, { what: "the two changed jobs committed" });
      expect(new Set(h.standin.commits(since).map((c) => c.jobId))).toEqual(new Set([renamed!.id, added!.id]));

      // Their reconciles wrote nothing into the folders: once the slack has passed since the
      // changes (within it, a pass looks at them once more), the next pass finds nothing new.
      await daemon.engine.queue.onIdle();
      await waitFor(() => Date.now() > since + SLACK_MS + 10, { what: "the slack to pass since the changes" });
      await daemon.rescan();
      expect(await daemon.rescan()).toBe(0);
    } finally {
      await daemon.stop(5_000);
    }
  });
});
