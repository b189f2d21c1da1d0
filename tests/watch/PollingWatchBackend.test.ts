/**
 * PollingWatchBackend on a real folder. chokidar drops a `change` that comes within 50 ms of
 * the previous one for the same path; a pipeline rewriting job.json twice in quick succession
 * would then leave its second write unseen until the rescan. The trailing look must still
 * report it. The poll interval is well inside that window, so that the throttle, not the
 * poll, is what would hide the second write.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PollingWatchBackend } from "../../src/watch/PollingWatchBackend.js";
import type { WatchEvent } from "../../src/watch/WatcherBackend.js";
import { waitFor } from "../helpers/syncHarness.js";

const POLL_MS = 10;

let root: string;
let backend: PollingWatchBackend;
/** Each event with the file's text when it was reported: which write it reports. */
let events: Array<WatchEvent & { text: string | null }>;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "celstate-polling-"));
  backend = new PollingWatchBackend(POLL_MS);
  events = [];
  backend.onEvent((e) => {
    let text: string | null = null;
    try {
      text = readFileSync(e.path, "utf8");
    } catch {
      // a folder, or gone
    }
    events.push({ ...e, text });
  });
});
afterEach(async () => {
  await backend.close();
  await rm(root, { recursive: true, force: true });
});

/** The pipeline's way: a temp file renamed over the old one. */
async function replace(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `tmp${Math.random().toString(16).slice(2)}`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

const reportedWith = (file: string, text: string) => events.some((e) => e.path === file && e.text === text);

describe("PollingWatchBackend", () => {
  it("PollingWatchBackend › a rewrite inside chokidar's 50 ms change throttle still produces an event", async () => {
    const job = path.join(root, "11111111-2222-4333-8444-555555555555");
    await mkdir(job);
    await backend.start(root);
    backend.watchJob(job);
    // The job's watch is in place once a write to it is reported.
    const warm = path.join(job, "warm.json");
    let n = 0;
    await waitFor(
      async () => {
        await writeFile(warm, String(n++));
        return events.some((e) => e.path === warm);
      },
      { timeoutMs: 5_000, what: "the job's watch in place" },
    );
    for (let round = 1; round <= 5; round++) {
      // A file of its own per round: nothing a look of an earlier round reports can be taken for it.
      const file = path.join(job, `round${round}.json`);
      await writeFile(file, "v0");
      await waitFor(() => events.some((e) => e.kind === "add" && e.path === file), {
        timeoutMs: 5_000,
        what: `round ${round}: the file polled`,
      });
      await replace(file, "first");
      await waitFor(() => reportedWith(file, "first"), { timeoutMs: 5_000, intervalMs: 1, what: `round ${round}: the first change` });
      // Right after the event: inside the throttle window.
      await replace(file, "second");
      await waitFor(() => reportedWith(file, "second"), { timeoutMs: 5_000, what: `round ${round}: an event after the second write` });
    }
    expect(events.filter((e) => e.text === "second").length).toBeGreaterThanOrEqual(5);
  });
});
