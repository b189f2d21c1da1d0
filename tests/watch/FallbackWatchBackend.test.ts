/**
 * FallbackWatchBackend: fs.watch until the daemon says the OS ran out of watches, stat polling
 * from then on, with the job folders watched before still watched and no inotify watch left.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countInotifyWatches } from "../../bench/procStats.js";
import { FallbackWatchBackend } from "../../src/watch/FallbackWatchBackend.js";
import type { WatchEvent } from "../../src/watch/WatcherBackend.js";
import { waitFor } from "../helpers/syncHarness.js";

/** Watches this process holds open: fs.watch handles and stat pollers. */
const watches = () => process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap" || r === "StatWatcher").length;

const ID = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, "0")}`;
const POLL_MS = 20;

let root: string;
let baseline: number;
let watchesBefore: number;
let backend: FallbackWatchBackend;
let events: WatchEvent[];
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "celstate-fallback-"));
  baseline = await countInotifyWatches(process.pid);
  watchesBefore = watches();
  backend = new FallbackWatchBackend(POLL_MS);
  events = [];
  backend.onEvent((e) => events.push(e));
});
afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

describe("FallbackWatchBackend", () => {
  it("FallbackWatchBackend › starts on fs.watch; after fallBackToPolling the jobs folder and the job folders watched before are polled, with no inotify watch left", async () => {
    const job = path.join(root, ID(1));
    await mkdir(job);
    await backend.start(root);
    backend.watchJob(job);
    expect(backend.polling).toBe(false);
    expect(await countInotifyWatches(process.pid)).toBe(baseline + 2); // the jobs folder and the job's

    await backend.fallBackToPolling();
    expect(backend.polling).toBe(true);
    expect(await countInotifyWatches(process.pid)).toBe(baseline);
    // The poller's first look at the job is in place once a write to it is reported.
    let n = 0;
    const file = path.join(job, "job.json");
    await waitFor(
      async () => {
        await writeFile(file, String(n++));
        return events.some((e) => e.path === file);
      },
      { timeoutMs: 5_000, what: "job.json polled" },
    );
    await mkdir(path.join(root, ID(2)));
    await waitFor(() => events.some((e) => e.kind === "addDir" && e.path === path.join(root, ID(2))), {
      timeoutMs: 5_000,
      what: "a new job folder polled",
    });
  });

  it("FallbackWatchBackend › with polling asked for (watch.polling) it polls from the start and takes no inotify watch", async () => {
    await backend.close();
    backend = new FallbackWatchBackend(POLL_MS, { polling: true });
    backend.onEvent((e) => events.push(e));
    const job = path.join(root, ID(4));
    await mkdir(job);
    await backend.start(root);
    backend.watchJob(job);
    expect(backend.polling).toBe(true);
    const file = path.join(job, "job.json");
    let n = 0;
    await waitFor(
      async () => {
        await writeFile(file, String(n++));
        return events.some((e) => e.path === file);
      },
      { timeoutMs: 5_000, what: "job.json polled" },
    );
    expect(await countInotifyWatches(process.pid)).toBe(baseline);
    // Nothing to fall back from: the call changes nothing.
    await backend.fallBackToPolling();
    expect(backend.polling).toBe(true);
  });

  it("FallbackWatchBackend › a close during the switch ends it: nothing is left watching or polling", async () => {
    const job = path.join(root, ID(3));
    await mkdir(job);
    await backend.start(root);
    backend.watchJob(job);
    expect(watches()).toBe(watchesBefore + 2);
    await Promise.all([backend.fallBackToPolling(), backend.close()]);
    // A closed handle is released by the event loop's next turn.
    await waitFor(() => watches() === watchesBefore, { timeoutMs: 2_000, what: "no watch left" });
    expect(await countInotifyWatches(process.pid)).toBe(baseline);
  });
});
