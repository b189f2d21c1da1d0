/**
 * The daemon's list of STUCK jobs (still failing past the retry limits for errors that are not
 * their own), kept beside the instance lock as `<jobsDir>/.celstate-sync/stuck.json` so that
 * `status`, a separate process, can report them. Written whole through a temp file and a rename
 * when the list changes, removed when the daemon stops (nobody is retrying them then). Advisory
 * only: a missing or unreadable report means "none known".
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export const STUCK_REPORT = path.join(".celstate-sync", "stuck.json");

export type StuckEntry = { jobId: string; code: string; reason: string };

export function writeStuckReport(jobsDir: string, entries: readonly StuckEntry[]): void {
  const file = path.join(jobsDir, STUCK_REPORT);
  if (entries.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ at: new Date().toISOString(), jobs: entries })}\n`);
  renameSync(tmp, file);
}

export function readStuckReport(jobsDir: string): Map<string, StuckEntry> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(jobsDir, STUCK_REPORT), "utf8")) as { jobs?: StuckEntry[] };
    return new Map((parsed.jobs ?? []).filter((e) => typeof e?.jobId === "string").map((e) => [e.jobId, e]));
  } catch {
    return new Map();
  }
}
