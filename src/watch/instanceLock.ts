/**
 * One daemon per jobs folder. proper-lockfile holds a lock directory next to the data
 * (`<jobsDir>/.celstate-sync/lock`, refreshed every few seconds, stale after `staleMs`), and we
 * add the holder's pid inside it: after a crash (SIGKILL, OOM) a restart under systemd comes
 * back within a second, long before the lock would go stale by age, so a lock whose pid is no
 * longer alive on this host is taken over at once, and a lock left without its holder file (a
 * kill between taking the lock and writing the pid) after a short grace.
 */
import type { Stats } from "node:fs";
import { mkdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import lockfile from "proper-lockfile";
import { SyncError } from "../errors/SyncError.js";
import { HOLDER_GRACE_MS, HOLDER_POLL_MS, LOCK_STALE_MS } from "../timing.js";

/**
 * One level down on purpose: the lock's mtime is refreshed every few seconds, and a change among
 * the jobs folder's own entries makes the watcher list all job folders again (31 % CPU at rest
 * with 50,000 jobs). Inside `.celstate-sync/`, the refresh touches nothing the watcher sees.
 */
export const LOCK_NAME = path.join(".celstate-sync", "lock");

export type InstanceLock = { release: () => Promise<void>; lockPath: string };

type Holder = { pid: number; host: string; startedAt: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(lockPath: string): Promise<Holder | null> {
  try {
    return JSON.parse(await readFile(path.join(lockPath, "holder.json"), "utf8")) as Holder;
  } catch {
    return null;
  }
}

async function waitForHolder(lockPath: string, graceMs: number): Promise<Holder | null> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const holder = await readHolder(lockPath);
    if (holder !== null || Date.now() >= deadline) return holder;
    await new Promise((r) => setTimeout(r, HOLDER_POLL_MS));
  }
}

/** An errno as words: "does not exist", "permission denied", … */
function fsProblem(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "is on a read-only file system";
    case "ENOTDIR":
      return "is not a folder";
    default:
      return (e as Error).message;
  }
}

export async function acquireInstanceLock(
  jobsDir: string,
  opts: { staleMs?: number; holderGraceMs?: number; onCompromised?: (e: Error) => void } = {},
): Promise<InstanceLock> {
  const lockPath = path.join(jobsDir, LOCK_NAME);
  // The jobs folder is the pipeline's: never created here (a typo in --jobs-dir would otherwise
  // give a healthy daemon that syncs nothing).
  let folder: Stats;
  try {
    folder = await stat(jobsDir);
  } catch (e) {
    throw new SyncError("JOBS_DIR_UNREADABLE", `the jobs folder ${jobsDir} ${fsProblem(e)} (check --jobs-dir / jobsDir)`, { cause: e });
  }
  if (!folder.isDirectory())
    throw new SyncError("JOBS_DIR_UNREADABLE", `the jobs folder ${jobsDir} is not a folder (check --jobs-dir / jobsDir)`);
  try {
    await mkdir(path.dirname(lockPath), { recursive: true });
  } catch (e) {
    throw new SyncError(
      "LOCK_UNWRITABLE",
      `cannot create ${path.dirname(lockPath)}: ${fsProblem(e)}; the service user needs write access to the jobs folder (systemd: User= and ReadWritePaths=)`,
      { cause: e },
    );
  }
  const options = {
    lockfilePath: lockPath,
    stale: opts.staleMs ?? LOCK_STALE_MS,
    realpath: false,
    onCompromised:
      opts.onCompromised ??
      ((e: Error) => {
        throw e;
      }),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const release = await lockfile.lock(jobsDir, options);
      const holder: Holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
      // Adding a file to the lock directory moves the directory's mtime, which proper-lockfile
      // compares with the one it set at its next refresh (stale/2 later): left moved, every
      // lock reports itself compromised after 7.5 s and then goes stale for a second daemon.
      const set = await stat(lockPath);
      // Temp file and rename: a process killed mid-write leaves no half-written holder.json.
      await writeFile(path.join(lockPath, "holder.json.tmp"), JSON.stringify(holder));
      await rename(path.join(lockPath, "holder.json.tmp"), path.join(lockPath, "holder.json"));
      await utimes(lockPath, set.atime, set.mtime);
      return {
        lockPath,
        release: async () => {
          // proper-lockfile removes its directory with rmdir, which fails while holder.json is in it.
          await rm(path.join(lockPath, "holder.json"), { force: true });
          await release();
          // Leave the jobs folder as we found it (rmdir: only if nothing else is in there).
          await rmdir(path.dirname(lockPath)).catch(() => undefined);
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
        throw new SyncError(
          "LOCK_UNWRITABLE",
          `cannot create the instance lock ${lockPath}: ${fsProblem(e)}; the service user needs write access to the jobs folder (systemd: User= and ReadWritePaths=)`,
          { cause: e },
        );
      }
      if (code !== "ELOCKED") {
        throw new SyncError("LOCKED", `cannot lock ${jobsDir}: ${(e as Error).message}`, { cause: e });
      }
      let holder = await readHolder(lockPath);
      // A holder writes holder.json right after taking the lock. A lock still without one after
      // a grace period belongs to a process killed in between (SIGKILL during start-up), which
      // would otherwise keep the folder locked until the lock goes stale by age.
      if (attempt === 0 && holder === null) holder = await waitForHolder(lockPath, opts.holderGraceMs ?? HOLDER_GRACE_MS);
      const orphaned = holder === null || (holder.host === hostname() && holder.pid !== process.pid && !alive(holder.pid));
      if (attempt === 0 && orphaned) {
        // The previous daemon died without releasing: its lock is ours to take.
        await rm(lockPath, { recursive: true, force: true });
        continue;
      }
      const who = holder ? `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}` : "another process";
      throw new SyncError("LOCKED", `another celstate-sync (${who}) is already syncing ${jobsDir}; stop it first (lock: ${lockPath})`, {
        cause: e,
      });
    }
  }
  throw new SyncError("LOCKED", `cannot lock ${jobsDir}`);
}
