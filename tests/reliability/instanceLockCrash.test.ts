/**
 * The instance lock across crashes and long runs: a daemon keeps its lock past proper-lockfile's
 * refresh (writing the pid file into the lock directory must not make the refresh think the lock
 * was taken), a clean release leaves nothing behind, and a lock left by a process killed between
 * taking the lock and writing its pid does not keep the folder locked until it goes stale.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireInstanceLock, LOCK_NAME } from "../../src/watch/instanceLock.js";
import { waitFor } from "../helpers/waitFor.js";

let jobsDir: string;
beforeEach(async () => {
  jobsDir = await mkdtemp(path.join(tmpdir(), "celstate-lock-"));
});
const lockDir = () => path.join(jobsDir, LOCK_NAME);
afterEach(async () => {
  await rm(jobsDir, { recursive: true, force: true });
});

describe("instance lock", () => {
  it("instance lock › is kept past several refreshes, refuses a second holder meanwhile, and leaves nothing after release", async () => {
    const compromised: Error[] = [];
    // staleMs 2 s: proper-lockfile refreshes every second.
    const lock = await acquireInstanceLock(jobsDir, { staleMs: 2_000, onCompromised: (e) => compromised.push(e) });
    // A refresh moves the lock directory's mtime: wait for two of them after the pid file's.
    const mtimes = new Set([(await stat(lockDir())).mtimeMs]);
    await waitFor(async () => mtimes.add((await stat(lockDir())).mtimeMs).size >= 3, {
      timeoutMs: 6_000,
      intervalMs: 50,
      what: "two refreshes of the lock",
    });
    expect(compromised.map((e) => e.message)).toEqual([]);
    await expect(acquireInstanceLock(jobsDir, { staleMs: 2_000 })).rejects.toMatchObject({
      code: "LOCKED",
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    await lock.release();
    expect(await readdir(jobsDir)).toEqual([]);
    const again = await acquireInstanceLock(jobsDir, { staleMs: 2_000 });
    await again.release();
  }, 15_000);

  it("instance lock › a lock without its pid file (holder killed right after taking it) is taken over after the grace period", async () => {
    await mkdir(lockDir(), { recursive: true });
    const lock = await acquireInstanceLock(jobsDir, { holderGraceMs: 300, onCompromised: () => undefined });
    expect(await readdir(lockDir())).toEqual(["holder.json"]);
    await lock.release();
  });

  it("instance lock › a pid file that appears within the grace period, naming a live process, is respected", async () => {
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    const otherExited = once(other, "exit");
    let holderWritten: Promise<void> | undefined;
    try {
      await mkdir(lockDir(), { recursive: true });
      // The other holder is slow to write its pid file: 100 ms, well within the grace period.
      holderWritten = delay(100).then(() =>
        writeFile(
          path.join(lockDir(), "holder.json"),
          JSON.stringify({ pid: other.pid, host: hostname(), startedAt: new Date().toISOString() }),
        ),
      );
      await expect(acquireInstanceLock(jobsDir, { holderGraceMs: 2_000 })).rejects.toMatchObject({
        code: "LOCKED",
        message: expect.stringContaining(`pid ${other.pid}`),
      });
    } finally {
      await holderWritten;
      other.kill("SIGKILL");
      await otherExited;
    }
  });
});
