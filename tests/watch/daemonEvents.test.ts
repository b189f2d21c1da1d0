/**
 * The daemon alone decides what a watcher's raw event is about: an event for a path that is no
 * job's (dot and tmp folders, a file in the jobs folder, studio/, temp files) is dropped, any
 * other one watches its job; and the backend is handed the same rule as `ignored`.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WatchEvent } from "../../src/watch/WatcherBackend.js";
import { WatchDaemon } from "../../src/watch/WatchDaemon.js";
import { FakeWatcherBackend } from "../helpers/fakeWatcherBackend.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const ID = (n: number) => `11111111-2222-4333-8444-${String(n).padStart(12, "0")}`;

describe("WatchDaemon › events", () => {
  it("WatchDaemon › a raw event watches the job it is about; one about no job's path watches nothing", async () => {
    const backend = new FakeWatcherBackend();
    const daemon = new WatchDaemon({
      config: h.config({ watch: { rescanIntervalMs: 0, activeWindowMs: 60_000, maxWatchedJobs: 10 } }),
      gateway: h.gateway(),
      backend,
      log: h.log,
    });
    const at = (...parts: string[]) => path.join(h.jobsDir, ...parts);
    try {
      await daemon.start();
      await daemon.whenReady();
      const dropped: WatchEvent[] = [
        { kind: "addDir", path: at(".celstate-sync") },
        { kind: "addDir", path: at("tmp-staging") },
        { kind: "change", path: at("tmp-staging", "job.json") },
        { kind: "change", path: at("notes.txt") },
        { kind: "change", path: at(ID(1), "studio", "white.png") },
        { kind: "change", path: at(ID(1), "tmpq9w8e7r6") },
        { kind: "change", path: at(ID(1), "trace", "tmpa1b2c3d4.json") },
        { kind: "change", path: at(ID(1), ".celstate-sync-0011223344556677.tmp") },
        { kind: "change", path: h.jobsDir },
        { kind: "addDir", path: path.join(path.dirname(h.jobsDir), ID(1)) },
      ];
      for (const e of dropped) backend.emit(e);
      expect([...backend.watched]).toEqual([]);
      backend.emit({ kind: "change", path: at(ID(2), "outputs", ".hidden_gem.png") });
      backend.emit({ kind: "addDir", path: at(ID(3)) });
      expect([...backend.watched]).toEqual([at(ID(2)), at(ID(3))]);

      const ignored = backend.options?.ignored;
      for (const p of [
        at(".celstate-sync"),
        at("tmp-staging"),
        at(ID(1), "studio"),
        at(ID(1), "tmpq9w8e7r6"),
        at(ID(1), "trace", "tmpa1b2c3d4.json"),
      ])
        expect(ignored?.(p), p).toBe(true);
      for (const p of [at(ID(2)), at(ID(2), "job.json"), at(ID(2), "outputs", ".hidden_gem.png"), at(ID(2), "trace", "trace.json")])
        expect(ignored?.(p), p).toBe(false);
    } finally {
      await daemon.stop(1_000);
    }
  });
});
