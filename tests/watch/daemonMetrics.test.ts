/**
 * The daemon's metrics are true when scraped: counters move when the work happens, gauges are
 * read at scrape time, and `backend_up` and `/readyz` follow the deployment even while no job
 * flows (the daemon's light probe). In process, against the stand-in, with a short probe
 * interval so an outage shows within a second instead of the default few seconds.
 */
import { stat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import { WatchDaemon, type WatchDaemonOptions } from "../../src/watch/WatchDaemon.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { sampleOf } from "../helpers/metricsText.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";
import pkg from "../../package.json" with { type: "json" };

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const PROBE = { probeIntervalMs: 100, probeTimeoutMs: 1_000 };

function daemonOf(over: Partial<WatchDaemonOptions> = {}): WatchDaemon {
  return new WatchDaemon({
    config: h.config({ healthPort: 0 }),
    gateway: h.gateway(),
    backend: new FallbackWatchBackend(),
    log: h.log,
    ...PROBE,
    ...over,
  });
}

const scrape = (d: WatchDaemon) => d.metrics.registry.metrics();

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

/** Handshakes the stand-in answered (any status): the probe's requests. */
function handshakes(): number {
  const byStatus = h.standin.stats().requests["POST /api/query sync:handshake"] ?? {};
  return Object.values(byStatus).reduce((a, b) => a + b, 0);
}

async function filesOf(j: PipelineJob): Promise<Array<{ name: string; size: number }>> {
  const out = await Promise.all(
    (await readdir(path.join(j.dir, "outputs"))).map(async (name) => ({
      name,
      size: (await stat(path.join(j.dir, "outputs", name))).size,
    })),
  );
  return [...out, { name: "trace.json", size: (await stat(path.join(j.dir, "trace", "trace.json"))).size }];
}

describe("WatchDaemon › metrics", () => {
  it("metrics › uploaded files and bytes are counted as files are uploaded", async () => {
    const jobs = [new PipelineJob(h.jobsDir, { pngBytes: 3_000 }), new PipelineJob(h.jobsDir, { pngBytes: 5_000 })];
    for (const j of jobs) await j.runToSuccess();
    const files = (await Promise.all(jobs.map(filesOf))).flat();
    const daemon = daemonOf();
    try {
      await daemon.start();
      await daemon.whenReady();
      await waitFor(() => h.standin.stats().uploads === files.length, { what: "every file uploaded" });
      const text = await scrape(daemon);
      expect(sampleOf(text, "celstate_sync_uploaded_files_total")).toBe(files.length);
      expect(sampleOf(text, "celstate_sync_uploaded_bytes_total")).toBe(files.reduce((a, f) => a + f.size, 0));
    } finally {
      await daemon.stop(1_000);
    }
  });

  it("metrics › queue depth is read at scrape time: a running job shows, and an idle daemon shows none", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gateway = new FakeGateway();
    gateway.beforeCommit = () => gate;
    const daemon = daemonOf({ gateway });
    try {
      await daemon.start();
      await waitFor(() => gateway.calls.commit === 1, { what: "the commit under way" });
      let text = await scrape(daemon);
      expect(sampleOf(text, 'celstate_sync_queue_depth{state="running"}')).toBe(1);
      release();
      await daemon.whenReady();
      await waitFor(() => daemon.engine.queue.stats().running === 0 && daemon.engine.queue.stats().queued === 0, {
        what: "the queue idle",
      });
      text = await scrape(daemon);
      expect(sampleOf(text, 'celstate_sync_queue_depth{state="running"}')).toBe(0);
      expect(sampleOf(text, 'celstate_sync_queue_depth{state="queued"}')).toBe(0);
      expect(sampleOf(text, 'celstate_sync_queue_depth{state="backing_off"}')).toBe(0);
    } finally {
      release();
      await daemon.stop(1_000);
    }
  });

  it("metrics › reconciles, failures, markers, latency, last success and watched jobs move with the work", async () => {
    const marked = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await marked.runToSuccess();
    await rm(path.join(marked.dir, "outputs", `${marked.name}_debug.png`));
    const startedS = Date.now() / 1000;
    const daemon = daemonOf();
    try {
      await daemon.start();
      await daemon.whenReady();
      // Written while the daemon watches: its sync has a latency from the first event seen.
      const live = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
      await live.runToSuccess();
      await waitFor(async () => (await h.getPublic(live.id))?.status === "succeeded", { what: "the live job mirrored" });
      await waitFor(async () => (sampleOf(await scrape(daemon), "celstate_sync_latency_seconds_count") ?? 0) >= 1, {
        what: "a latency observed",
      });
      const text = await scrape(daemon);
      expect(sampleOf(text, 'celstate_sync_reconciles_total{outcome="failed"}')).toBe(1);
      expect(sampleOf(text, 'celstate_sync_reconciles_total{outcome="synced"}')).toBeGreaterThanOrEqual(1);
      expect(sampleOf(text, 'celstate_sync_failures_total{code="ASSET_MISSING"}')).toBe(1);
      expect(sampleOf(text, "celstate_sync_markers_written_total")).toBe(1);
      expect(sampleOf(text, "celstate_sync_last_success_timestamp_seconds")).toBeGreaterThanOrEqual(Math.floor(startedS));
      expect(sampleOf(text, "celstate_sync_watched_jobs")).toBe(daemon.watchedJobs);
      expect(daemon.watchedJobs).toBeGreaterThanOrEqual(1);
      expect(sampleOf(text, "celstate_sync_internal_errors_total")).toBe(0);
      expect(sampleOf(text, "celstate_sync_stuck_jobs")).toBe(0);
      expect(sampleOf(text, "celstate_sync_ready")).toBe(1);
    } finally {
      await daemon.stop(1_000);
    }
  });

  it("metrics › build info, and Node's process metrics under their conventional names", async () => {
    const daemon = daemonOf();
    try {
      await daemon.start();
      const text = await scrape(daemon);
      expect(text).toMatch(
        new RegExp(`^celstate_sync_build_info\\{version="${pkg.version.replace(/\./g, "\\.")}",api_version="\\d+"\\} 1$`, "m"),
      );
      for (const name of [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "nodejs_eventloop_lag_seconds",
        "nodejs_heap_size_used_bytes",
      ]) {
        expect(text, name).toMatch(new RegExp(`^${name} `, "m"));
      }
      expect(text).not.toMatch(/celstate_sync_process_/);
    } finally {
      await daemon.stop(1_000);
    }
  });
});

describe("WatchDaemon › backend_up and /readyz without jobs", () => {
  it("probe › an idle daemon shows an outage and its end, though no job changes", async () => {
    const daemon = daemonOf();
    try {
      const { healthPort } = await daemon.start();
      await daemon.whenReady();
      await waitFor(async () => (await readyz(healthPort!)) === 200, { what: "ready" });
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(1);

      h.standin.setFaults({ paused: true });
      await waitFor(async () => (await readyz(healthPort!)) === 503, { timeoutMs: 5_000, what: "/readyz 503 during the outage" });
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(0);
      expect(await (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).text()).toContain("Convex unreachable");

      h.standin.clearFaults();
      await waitFor(async () => (await readyz(healthPort!)) === 200, { timeoutMs: 5_000, what: "/readyz 200 after the outage" });
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(1);
      expect(daemon.engine.fatal).toBeNull();
    } finally {
      await daemon.stop(1_000);
    }
  });

  it("probe › a daemon started during an outage is never up or ready until the deployment answers", async () => {
    h.standin.setFaults({ paused: true });
    const daemon = daemonOf();
    try {
      const { healthPort } = await daemon.start();
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(0);
      const seen = handshakes();
      await waitFor(() => handshakes() >= seen + 3, { what: "three probes during the outage" });
      expect(await readyz(healthPort!)).toBe(503);
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(0);

      h.standin.clearFaults();
      await waitFor(async () => (await readyz(healthPort!)) === 200, { timeoutMs: 10_000, what: "ready after the outage" });
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(1);
    } finally {
      await daemon.stop(1_000);
    }
  });

  it("probe › a refusal answered to the probe neither stops the daemon nor marks a job; the deployment counts as answering", async () => {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 2_000 });
    await j.runToSuccess();
    const gateway = new FakeGateway();
    const daemon = daemonOf({ gateway });
    try {
      const { healthPort } = await daemon.start();
      await daemon.whenReady();
      const answered = gateway.calls.handshake;
      gateway.failNext(
        "handshake",
        new SyncError("API_MISMATCH", "the deployment speaks sync API v0 (a deploy under way)"),
        Number.POSITIVE_INFINITY,
      );
      await waitFor(() => gateway.calls.handshake - answered >= 3, { what: "three refused probes" });
      expect(daemon.engine.fatal).toBeNull();
      expect(await readyz(healthPort!)).toBe(200);
      expect(sampleOf(await scrape(daemon), "celstate_sync_backend_up")).toBe(1);
      expect(sampleOf(await scrape(daemon), "celstate_sync_markers_written_total")).toBe(0);
    } finally {
      await daemon.stop(1_000);
    }
  });
});
