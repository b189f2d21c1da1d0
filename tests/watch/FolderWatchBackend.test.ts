/**
 * The watcher backend on a real folder: the jobs folder reports job folders appearing and
 * going away (and nothing for dot or temp folders, or files), a watched job reports its files,
 * and an unwatched job reports nothing and leaves nothing behind.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countInotifyWatches } from "../../bench/procStats.js";
import { WATCHES_PER_ACTIVE_JOB } from "../../src/ops/checkInotifyLimits.js";
import { FolderWatchBackend } from "../../src/watch/FolderWatchBackend.js";
import type { WatchEvent } from "../../src/watch/WatcherBackend.js";
import { waitFor } from "../helpers/syncHarness.js";

const ID = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, "0")}`;

let root: string;
let backend: FolderWatchBackend;
let events: WatchEvent[];
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "celstate-backend-"));
  backend = new FolderWatchBackend();
  events = [];
  backend.onEvent((e) => events.push(e));
  await backend.start(root);
});
afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rel = (e: WatchEvent) => `${e.kind} ${path.relative(root, e.path)}`;

describe("FolderWatchBackend", () => {
  it("FolderWatchBackend › the jobs folder reports job folders added and removed, nothing else", async () => {
    await mkdir(path.join(root, ".celstate-sync"));
    await mkdir(path.join(root, "tmp-staging"));
    await writeFile(path.join(root, "notes.txt"), "x");
    await mkdir(path.join(root, ID(1)));
    // A job folder staged under a temp name and renamed into place counts by its final name.
    await mkdir(path.join(root, "tmp-2"));
    await rename(path.join(root, "tmp-2"), path.join(root, ID(2)));
    await waitFor(() => events.filter((e) => e.kind === "addDir").length >= 2);
    await rm(path.join(root, ID(1)), { recursive: true });
    await waitFor(() => events.some((e) => e.kind === "unlinkDir"));
    await sleep(100);
    const seen = new Set(events.map(rel));
    expect(seen).toEqual(new Set([`addDir ${ID(1)}`, `addDir ${ID(2)}`, `unlinkDir ${ID(1)}`]));
  });

  it("FolderWatchBackend › a watched job reports its files; once unwatched, nothing", async () => {
    const job = path.join(root, ID(3));
    await mkdir(path.join(job, "outputs"), { recursive: true });
    await sleep(50);
    backend.watchJob(job);
    events.length = 0;
    await writeFile(path.join(job, "job.json"), "{}");
    await writeFile(path.join(job, "outputs", "a.png"), "png");
    await waitFor(() => events.some((e) => e.path.endsWith("a.png")) && events.some((e) => e.path.endsWith("job.json")));

    backend.unwatchJob(job);
    await sleep(100);
    events.length = 0;
    await writeFile(path.join(job, "job.json"), "{\"x\": 1}");
    await writeFile(path.join(job, "outputs", "b.png"), "png");
    await sleep(300);
    expect(events.map(rel)).toEqual([]);

    // Watching it again works as the first time.
    backend.watchJob(job);
    await writeFile(path.join(job, "outputs", "c.png"), "png");
    await waitFor(() => events.some((e) => e.path.endsWith("c.png")));
  });

  it("FolderWatchBackend › a sub-folder that appears is reported and watched from then on; studio/, the pipeline's temp files and ours are not reported, a dot-named output is", async () => {
    const job = path.join(root, ID(5));
    await mkdir(job);
    backend.watchJob(job);
    await mkdir(path.join(job, "trace"));
    await waitFor(() => events.some((e) => e.kind === "addDir" && e.path === path.join(job, "trace")));
    await mkdir(path.join(job, "outputs"));
    await waitFor(() => events.some((e) => e.kind === "addDir" && e.path === path.join(job, "outputs")));
    await mkdir(path.join(job, "studio"));
    await writeFile(path.join(job, "studio", "white.png"), "png");
    await writeFile(path.join(job, "trace", "tmpa1b2c3d4.json"), "{}");
    await writeFile(path.join(job, "tmpq9w8e7r6"), "{}");
    await writeFile(path.join(job, ".celstate-sync-0011223344556677.tmp"), "x");
    await writeFile(path.join(job, "outputs", ".hidden_gem.png"), "png");
    await rename(path.join(job, "trace", "tmpa1b2c3d4.json"), path.join(job, "trace", "trace.json"));
    await waitFor(() => events.some((e) => e.path === path.join(job, "trace", "trace.json")));
    await waitFor(() => events.some((e) => e.path === path.join(job, "outputs", ".hidden_gem.png")));
    await rm(path.join(job, "trace"), { recursive: true });
    await waitFor(() => events.some((e) => e.kind === "unlinkDir" && e.path === path.join(job, "trace")));
    await sleep(100);
    const reported = new Set(events.map(rel));
    for (const r of reported) expect(r, "nothing under studio/, no temp file").not.toMatch(/studio|tmpa1b2c3d4|tmpq9w8e7r6|\.celstate-sync-/);
  });

  it("FolderWatchBackend › a watched job costs one inotify watch per folder (the job, outputs/, trace/), not one per file", async () => {
    const job = path.join(root, ID(6));
    await mkdir(path.join(job, "outputs"), { recursive: true });
    await mkdir(path.join(job, "trace"));
    await mkdir(path.join(job, "studio"));
    for (const f of ["a.png", "a_debug.png", "a_mask.png"]) await writeFile(path.join(job, "outputs", f), "png");
    await writeFile(path.join(job, "job.json"), "{}");
    const before = await countInotifyWatches(process.pid);
    backend.watchJob(job);
    expect((await countInotifyWatches(process.pid)) - before).toBe(WATCHES_PER_ACTIVE_JOB); // what `doctor` sizes the limit by
    backend.unwatchJob(job);
    expect(await countInotifyWatches(process.pid)).toBe(before);
  });

  it("FolderWatchBackend › the polling fallback still reports new job folders", async () => {
    await backend.fallBackToPolling();
    expect(backend.polling).toBe(true);
    events.length = 0;
    await mkdir(path.join(root, ID(4)));
    await waitFor(() => events.some((e) => e.kind === "addDir" && e.path.endsWith(ID(4))), { timeoutMs: 5_000 });
  });
});
