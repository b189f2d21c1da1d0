/**
 * The guarded read primitive on its own, with a guard that records which step failed: no
 * symlink followed, no FIFO blocking the open, the descriptor left open for the caller, chunks
 * handed over in order, and a file that grows while read refused. The readers built on it
 * (job.json, assets, hashing) have their own suites.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, closeSync, fstatSync, symlinkSync, writeFileSync, type Stats } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { openGuarded, readGuarded, readGuardedChunks, type ReadGuard } from "../../src/local/guardedRead.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const dir = useTempJobsDir();

/** A guard accepting regular files, whose errors say which step failed and why. */
function testGuard(accept: (st: Stats) => boolean = (st) => st.isFile()): ReadGuard & { failures: string[] } {
  const failures: string[] = [];
  return {
    failures,
    accept(st) {
      if (!accept(st)) throw new SyncError("UNSAFE_PATH", "refused by accept");
    },
    fail(e, opening) {
      failures.push(`${opening ? "open" : "read"}: ${e instanceof SyncError ? e.code : (e as NodeJS.ErrnoException).code}`);
      return e instanceof SyncError ? e : new SyncError("FILE_UNREADABLE", String(e));
    },
    changed: () => new SyncError("FILE_CHANGED", "changed"),
  };
}

function file(name: string, data: Buffer): string {
  const abs = path.join(dir(), name);
  writeFileSync(abs, data);
  return abs;
}

describe("guardedRead", () => {
  it("readGuarded › returns the bytes and the stat, and leaves the descriptor open for the caller", () => {
    const data = randomBytes(70_000);
    const read = readGuarded(file("a.bin", data), testGuard());
    try {
      expect(read.bytes.equals(data)).toBe(true);
      expect(read.stat.size).toBe(data.length);
      expect(fstatSync(read.fd).ino).toBe(read.stat.ino);
    } finally {
      closeSync(read.fd);
    }
  });

  it("openGuarded › never follows a symlink: the open itself fails (ELOOP)", () => {
    const target = file("target.bin", randomBytes(10));
    const link = path.join(dir(), "link.bin");
    symlinkSync(target, link);
    const guard = testGuard();
    expect(() => openGuarded(link, guard)).toThrow(SyncError);
    expect(guard.failures).toEqual(["open: ELOOP"]);
  });

  it("openGuarded › a FIFO neither blocks the open nor passes a regular-file guard", () => {
    const fifo = path.join(dir(), "fifo");
    execFileSync("mkfifo", [fifo]);
    const guard = testGuard();
    expect(() => openGuarded(fifo, guard)).toThrow("refused by accept");
    expect(guard.failures).toEqual(["read: UNSAFE_PATH"]);
  });

  it("readGuardedChunks › hands over every chunk with the running total", async () => {
    const data = randomBytes(25_000);
    const open = openGuarded(file("c.bin", data), testGuard());
    const chunks: Buffer[] = [];
    const totals: number[] = [];
    try {
      await readGuardedChunks(open, 10_000, (chunk, total) => {
        chunks.push(Buffer.from(chunk));
        totals.push(total);
      });
    } finally {
      closeSync(open.fd);
    }
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(totals).toEqual([10_000, 20_000, 25_000]);
  });

  it("readGuardedChunks › a file that grows while it is read is the guard's FILE_CHANGED", async () => {
    const abs = file("d.bin", randomBytes(25_000));
    const open = openGuarded(abs, testGuard());
    try {
      const run = readGuardedChunks(open, 10_000, (_chunk, total) => {
        if (total === 10_000) appendFileSync(abs, "more");
      });
      await expect(run).rejects.toMatchObject({ code: "FILE_CHANGED" });
    } finally {
      closeSync(open.fd);
    }
  });
});
