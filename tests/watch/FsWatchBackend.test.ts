/**
 * FsWatchBackend on a real folder: the jobs folder reports entries appearing and going away, a
 * watched job reports its files and sub-folders, an unwatched job reports nothing and leaves no
 * watch behind, and what `ignored` names (here the daemon's rule) costs no watch and is never
 * reported. "Nothing else was reported" is read once a later event has arrived: Node shares one
 * inotify queue per process, so every event of an earlier write is in by then.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countInotifyWatches } from "../../bench/procStats.js";
import { WATCHES_PER_ACTIVE_JOB } from "../../src/ops/checkInotifyLimits.js";
import { FsWatchBackend } from "../../src/watch/FsWatchBackend.js";
import { jobIdOfPath } from "../../src/watch/jobIdOfPath.js";
import type { WatchEvent, WatchEventKind } from "../../src/watch/WatcherBackend.js";
import { waitFor } from "../helpers/syncHarness.js";

const ID = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, "0")}`;

let root: string;
let backend: FsWatchBackend;
let events: WatchEvent[];
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "celstate-backend-"));
  backend = new FsWatchBackend();
  events = [];
  backend.onEvent((e) => events.push(e));
  await backend.start(root, { ignored: (p) => jobIdOfPath(root, p) === null });
});
afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

const rel = (e: WatchEvent) => `${e.kind} ${path.relative(root, e.path)}`;

/** Waits until `p` has been reported (as `kind`, if given). */
async function reported(p: string, kind?: WatchEventKind): Promise<void> {
  await waitFor(() => events.some((e) => e.path === p && (kind === undefined || e.kind === kind)), {
    what: `${kind ?? "an event"} for ${path.relative(root, p)}`,
  });
}

describe("FsWatchBackend", () => {
  it("FsWatchBackend › the jobs folder reports folders added and removed and files as changes; dot and tmp folders are not reported", async () => {
    await mkdir(path.join(root, ".celstate-sync"));
    await mkdir(path.join(root, "tmp-staging"));
    await writeFile(path.join(root, "notes.txt"), "x");
    await mkdir(path.join(root, ID(1)));
    // A job folder staged under a temp name and renamed into place counts by its final name.
    await mkdir(path.join(root, "tmp-2"));
    await rename(path.join(root, "tmp-2"), path.join(root, ID(2)));
    await reported(path.join(root, ID(2)), "addDir");
    await rm(path.join(root, ID(1)), { recursive: true });
    await reported(path.join(root, ID(1)), "unlinkDir");
    expect(new Set(events.map(rel))).toEqual(new Set(["change notes.txt", `addDir ${ID(1)}`, `addDir ${ID(2)}`, `unlinkDir ${ID(1)}`]));
  });

  it("FsWatchBackend › a watched job reports its files; once unwatched, nothing; watched again, as the first time", async () => {
    const job = path.join(root, ID(3));
    await mkdir(path.join(job, "outputs"), { recursive: true });
    await reported(job, "addDir");
    backend.watchJob(job);
    events.length = 0;
    await writeFile(path.join(job, "job.json"), "{}");
    await writeFile(path.join(job, "outputs", "a.png"), "png");
    await reported(path.join(job, "outputs", "a.png"));
    expect(events.some((e) => e.path === path.join(job, "job.json"))).toBe(true);

    backend.unwatchJob(job);
    events.length = 0;
    await writeFile(path.join(job, "job.json"), '{"x": 1}');
    await writeFile(path.join(job, "outputs", "b.png"), "png");
    await mkdir(path.join(root, ID(4)));
    await reported(path.join(root, ID(4)), "addDir");
    expect(events.map(rel)).toEqual([`addDir ${ID(4)}`]);

    backend.watchJob(job);
    await writeFile(path.join(job, "outputs", "c.png"), "png");
    await reported(path.join(job, "outputs", "c.png"));
  });

  it("FsWatchBackend › a sub-folder that appears is reported and watched from then on; studio/, the pipeline's temp files and ours are not reported, a dot-named output is", async () => {
    const job = path.join(root, ID(5));
    await mkdir(job);
    backend.watchJob(job);
    await mkdir(path.join(job, "trace"));
    await reported(path.join(job, "trace"), "addDir");
    await mkdir(path.join(job, "outputs"));
    await reported(path.join(job, "outputs"), "addDir");
    await mkdir(path.join(job, "studio"));
    await writeFile(path.join(job, "studio", "white.png"), "png");
    await writeFile(path.join(job, "trace", "tmpa1b2c3d4.json"), "{}");
    await writeFile(path.join(job, "tmpq9w8e7r6"), "{}");
    await writeFile(path.join(job, ".celstate-sync-0011223344556677.tmp"), "x");
    await writeFile(path.join(job, "outputs", ".hidden_gem.png"), "png");
    await rename(path.join(job, "trace", "tmpa1b2c3d4.json"), path.join(job, "trace", "trace.json"));
    await reported(path.join(job, "trace", "trace.json"));
    await reported(path.join(job, "outputs", ".hidden_gem.png"));
    await rm(path.join(job, "trace"), { recursive: true });
    await reported(path.join(job, "trace"), "unlinkDir");
    for (const r of new Set(events.map(rel)))
      expect(r, "nothing under studio/, no temp file").not.toMatch(/studio|tmpa1b2c3d4|tmpq9w8e7r6|\.celstate-sync-/);
  });

  it("FsWatchBackend › a watched job costs one inotify watch per folder (the job, outputs/, trace/; none for studio/), not one per file", async () => {
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
});
