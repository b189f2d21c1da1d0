/**
 * chokidar drops a `change` event that comes within 50 ms of the previous one for the same
 * path (a leading-edge throttle with no trailing event). A pipeline that rewrites job.json
 * twice in quick succession would then leave its second write unseen until the periodic rescan.
 * The backend must still report a change that landed inside that window.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FolderWatchBackend } from "../../src/watch/FolderWatchBackend.js";
import type { WatchEvent } from "../../src/watch/WatcherBackend.js";
import { waitFor } from "../helpers/syncHarness.js";
import { sleep } from "./reliabilityKit.js";

let root: string;
let backend: FolderWatchBackend;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "celstate-throttle-"));
  backend = new FolderWatchBackend();
});
afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

async function replace(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `tmp${Math.random().toString(16).slice(2)}`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

describe("FolderWatchBackend", () => {
  it("FolderWatchBackend › a rewrite inside chokidar's 50 ms change throttle still produces an event", async () => {
    const job = path.join(root, "11111111-2222-4333-8444-555555555555");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(job);
    const file = path.join(job, "job.json");
    await writeFile(file, "v0");
    const events: Array<WatchEvent & { at: number }> = [];
    backend.onEvent((e) => events.push({ ...e, at: Date.now() }));
    await backend.start(root);
    backend.watchJob(job);
    await sleep(300); // the job's watch is in place

    let missed = 0;
    for (let round = 1; round <= 5; round++) {
      const before = events.length;
      await replace(file, `first ${round}`);
      await waitFor(() => events.slice(before).some((e) => e.path === file), { timeoutMs: 5_000, intervalMs: 1, what: "the first change" });
      // Right after the event: inside the throttle window.
      // Taken before the write: its event may arrive while the rename is still being awaited.
      const secondWrittenAt = Date.now();
      await replace(file, `second ${round}`);
      await sleep(400);
      const after = events.slice(before).filter((e) => e.path === file && e.at >= secondWrittenAt);
      if (after.length === 0) missed++;
      await sleep(100);
    }
    expect(missed, "second writes with no event after them").toBe(0);
  });
});
