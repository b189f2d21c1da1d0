import { isoToMicros } from "../../convex/lib/time.js";
import { renameSync, writeFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parsePythonJson, stringifyPythonJson } from "../../src/local/pythonJson.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { FakeWatcherBackend } from "../helpers/fakeWatcherBackend.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { cleanEnv, DaemonProcess } from "../helpers/runCli.js";
import { createHarness, download, type Harness, sha256, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const getStates = makeFunctionReference<"query">("sync:getStates");

/** True when Convex holds the job exactly as it is on disk: record, every file, the trace. */
async function mirrored(job: PipelineJob): Promise<boolean> {
  const rec = parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
  const pub = await h.getPublic(job.id);
  if (pub === null || pub.status !== rec.status || pub.error !== rec.error) return false;
  const [state] = (await h.client.query(getStates, { serviceToken: h.token, jobIds: [job.id] })) as Array<{
    updatedAtUs: number;
    assets: Array<{ filename: string }>;
  } | null>;
  if (!state || state.updatedAtUs !== isoToMicros(String(rec.updated_at))) return false;
  if (rec.status === "succeeded") {
    const names = new Set(state.assets.map((a) => a.filename));
    if (!names.has("trace.json")) return false;
    const assets = (pub.component as { assets: Record<string, string> }).assets;
    for (const [name, url] of Object.entries(assets)) {
      const local = await readFile(path.join(job.dir, "outputs", name));
      if (sha256((await download(url)).bytes) !== sha256(local)) return false;
    }
  }
  return true;
}

/** Polls getPublic during a run: a component must never be visible with an asset lacking a URL. */
function watchForHoles(jobs: PipelineJob[]): { stop: () => Promise<string[]> } {
  const holes: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const j of jobs) {
        const pub = await h.getPublic(j.id).catch(() => null);
        const assets = (pub?.component as { assets?: Record<string, unknown> } | null)?.assets;
        if (assets) for (const [k, v] of Object.entries(assets)) if (typeof v !== "string") holes.push(`${j.id}:${k}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return holes;
    },
  };
}

async function runPipeline(jobs: PipelineJob[], pauseMs = 15): Promise<void> {
  await Promise.all(jobs.map((j) => j.runToSuccess(() => new Promise((r) => setTimeout(r, Math.random() * pauseMs)))));
}

describe("watch daemon (in process, real chokidar)", () => {
  it("watch › mirrors jobs written through every stage while it runs, never exposing a component without URLs", async () => {
    const daemon = new WatchDaemon({ config: h.config(), gateway: h.gateway(), backend: new FallbackWatchBackend(), log: h.log });
    let probe: ReturnType<typeof watchForHoles> | undefined;
    try {
      await daemon.start();
      await daemon.whenReady();
      const jobs = Array.from({ length: 12 }, () => new PipelineJob(h.jobsDir, { pngBytes: 24_000 }));
      probe = watchForHoles(jobs);
      await runPipeline(jobs);
      for (const j of jobs) await waitFor(() => mirrored(j), { what: `job ${j.id} mirrored` });
      expect(await probe.stop()).toEqual([]);
    } finally {
      await probe?.stop();
      await daemon.stop(5_000);
    }
  });

  it("watch › a burst of five rewrites in 50 ms syncs the final state once or twice", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.queued();
    const daemon = new WatchDaemon({ config: h.config(), gateway: h.gateway(), backend: new FallbackWatchBackend(), log: h.log });
    let before = 0;
    try {
      await daemon.start();
      await daemon.whenReady();
      before = h.standin.commits().filter((c) => c.jobId === j.id).length;
      // Five rewrites back to back, the pipeline's way (temp file + rename), synchronously so that
      // nothing in this process runs between them: a few milliseconds in all.
      for (let i = 0; i < 5; i++) {
        j.record = { ...j.record, prompt: `rewrite ${i}`, updated_at: `2030-01-01T00:00:0${i}.000000+00:00` };
        const tmp = path.join(j.dir, `tmpburst${i}`);
        writeFileSync(tmp, stringifyPythonJson(j.record));
        renameSync(tmp, path.join(j.dir, "job.json"));
      }
      await waitFor(() => mirrored(j), { what: "final state" });
    } finally {
      // Stopped, the daemon has drained: every commit the burst caused is in.
      await daemon.stop(5_000);
    }
    const commits = h.standin
      .commits()
      .filter((c) => c.jobId === j.id)
      .slice(before);
    expect(commits.length).toBeGreaterThanOrEqual(1);
    expect(commits.length).toBeLessThanOrEqual(2);
    expect(commits.at(-1)!.updatedAt).toBe("2030-01-01T00:00:04.000000+00:00");
  });

  it("watch › recovers from an outage during live writes without a restart", async () => {
    const daemon = new WatchDaemon({ config: h.config(), gateway: h.gateway(), backend: new FallbackWatchBackend(), log: h.log });
    try {
      await daemon.start();
      await daemon.whenReady();
      h.standin.setFaults([{ refuse: true, durationMs: 800 }]);
      const jobs = Array.from({ length: 6 }, () => new PipelineJob(h.jobsDir));
      await runPipeline(jobs);
      h.standin.setFaults({ status: 503, durationMs: 500 });
      for (const j of jobs) await waitFor(() => mirrored(j), { what: `job ${j.id} after the outage`, timeoutMs: 20_000 });
      expect(daemon.engine.totals.failures).toBe(0);
    } finally {
      await daemon.stop(5_000);
    }
  });

  it("watch › unwatches finished, in-sync jobs after the active window (watch cost follows active jobs)", async () => {
    const daemon = new WatchDaemon({
      config: h.config({ watch: { activeWindowMs: 1_000, rescanIntervalMs: 0, maxWatchedJobs: 500 } }),
      gateway: h.gateway(),
      backend: new FallbackWatchBackend(),
      log: h.log,
    });
    try {
      await daemon.start();
      await daemon.whenReady();
      const jobs = Array.from({ length: 3 }, () => new PipelineJob(h.jobsDir));
      await runPipeline(jobs);
      for (const j of jobs) await waitFor(() => mirrored(j));
      expect(daemon.watchedJobs).toBe(3);
      await waitFor(() => daemon.watchedJobs === 0, { timeoutMs: 5_000, what: "jobs unwatched" });
      // A change to an unwatched job is still caught by the rescan safety net.
      await jobs[0]!.failed("late failure");
      await daemon.rescan();
      await waitFor(() => mirrored(jobs[0]!), { what: "rescan picked up the change" });
    } finally {
      await daemon.stop(5_000);
    }
  });
});

describe("watch daemon (fake watcher backend)", () => {
  it("watch › a file written into a new job subfolder before its watch existed is still synced", async () => {
    const backend = new FakeWatcherBackend();
    const daemon = new WatchDaemon({
      config: h.config({ watch: { rescanIntervalMs: 0, activeWindowMs: 60_000, maxWatchedJobs: 10 } }),
      gateway: h.gateway(),
      backend,
      log: h.log,
    });
    try {
      await daemon.start();
      await daemon.whenReady();
      const j = new PipelineJob(h.jobsDir);
      await j.queued();
      await j.running();
      await j.processing();
      await j.succeeded();
      let results = 0;
      daemon.engine.on("result", (jobId: string) => {
        if (jobId === j.id) results++;
      });
      backend.emit({ kind: "addDir", path: j.dir });
      await waitFor(async () => ((await h.getPublic(j.id)) as { status?: string } | null)?.status === "succeeded", {
        what: "final record",
      });
      // The trace folder appears and is reported; the reconcile it causes finds nothing new. The
      // file then written into it raises no event (its folder's watch was not in place yet).
      await mkdir(path.join(j.dir, "trace"));
      const seen = results;
      backend.emit({ kind: "addDir", path: path.join(j.dir, "trace") });
      await waitFor(() => results > seen, { what: "the reconcile the trace folder's event caused" });
      await j.trace();
      await waitFor(() => mirrored(j), { what: "trace synced by the follow-up look", timeoutMs: 5_000 });
    } finally {
      await daemon.stop(1_000);
    }
  });

  it("watch › hitting the inotify limit is said loudly and falls back to polling", async () => {
    const lines: string[] = [];
    const pino = (await import("pino")).default;
    const log = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
    const backend = new FakeWatcherBackend();
    const daemon = new WatchDaemon({
      config: h.config({ watch: { rescanIntervalMs: 0, activeWindowMs: 60_000, maxWatchedJobs: 10 } }),
      gateway: h.gateway(),
      backend,
      log,
    });
    try {
      await daemon.start();
      await daemon.whenReady();
      backend.emitError(Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" }));
      await waitFor(() => backend.polling, { what: "polling fallback" });
      expect(lines.join("")).toContain("fs.inotify.max_user_watches");
    } finally {
      await daemon.stop(1_000);
    }
  });
});

describe("watch daemon (as a process)", () => {
  const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });

  it("watch › SIGTERM drains and exits 0; a second instance on the same folder refuses (exit 2)", async () => {
    const d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: env() });
    let second: DaemonProcess | undefined;
    try {
      await d.waitForLog("start-up reconcile done");
      second = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: env() });
      const secondExit = await second.exited;
      expect(secondExit.code).toBe(2);
      expect(second.stderr).toMatch(/another celstate-sync \(pid \d+/);
      const j = new PipelineJob(h.jobsDir);
      await j.runToSuccess();
      await waitFor(() => mirrored(j), { what: "synced by the daemon process" });
      const exit = await d.stop("SIGTERM");
      expect(exit.code).toBe(0);
      expect(d.stderr).toContain('"why":"SIGTERM"');
    } finally {
      await second?.stop("SIGKILL");
      await d.stop("SIGKILL");
    }
  });

  it("watch › SIGKILL mid-stream, restart: converges with nothing lost (stale lock taken over)", async () => {
    const jobs = Array.from({ length: 10 }, () => new PipelineJob(h.jobsDir, { pngBytes: 64_000 }));
    let d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: env() });
    try {
      await d.waitForLog("start-up reconcile done");
      const writing = runPipeline(jobs, 60);
      await waitFor(() => h.standin.commits().length >= 3, { what: "some commits" });
      await d.stop("SIGKILL");
      await writing;
      d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: env() });
      await d.waitForLog("start-up reconcile done");
      for (const j of jobs) await waitFor(() => mirrored(j), { what: `job ${j.id} after restart` });
      expect((await d.stop("SIGTERM")).code).toBe(0);
    } finally {
      await d.stop("SIGKILL");
    }
  });

  it("watch › without a Convex URL it says so and exits 2 (no fallback backend)", async () => {
    const d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: cleanEnv({ CELSTATE_SYNC_TOKEN: h.token }), cwd: h.jobsDir });
    try {
      const exit = await d.exited;
      expect(exit.code).toBe(2);
      expect(d.stderr).toMatch(/no Convex deployment URL/);
    } finally {
      await d.stop("SIGKILL");
    }
  });

  it("watch › a deployment that refuses the token stops it at start-up with exit 2 and a one-line reason, the token never printed", async () => {
    const wrong = "wrong-token-7d1e0f42c9a3";
    const d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], {
      env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: wrong }),
      cwd: h.jobsDir,
    });
    try {
      const exit = await d.exited;
      expect(exit.code).toBe(2);
      expect(d.stderr).toMatch(/^celstate-sync: \[UNAUTHORIZED\] .+$/m);
      expect(`${d.stdout}${d.stderr}`).not.toContain(wrong);
    } finally {
      await d.stop("SIGKILL");
    }
  });
});
