/**
 * `doctor`'s inotify line. The watch daemon holds one watch per folder of each active job: the
 * job folder, outputs/ and trace/ (tests/watch/FsWatchBackend.test.ts counts them). At most
 * `watch.maxWatchedJobs` jobs are active at once. The per-user limits are shared with every
 * other program of the same user (editors, other watchers), so the check wants room to spare.
 * When the limit is hit the daemon falls back to polling, so this is a warning, never a failure.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { DoctorCheck } from "./DoctorCheck.js";

export const WATCHES_PER_ACTIVE_JOB = 3;
/** Headroom factor: the limits are per user, not per program. */
export const WATCH_HEADROOM = 2;
/** celstate-sync needs one instance (libuv shares one per process); others of the user need theirs. */
export const MIN_INSTANCES = 16;

export type InotifyOptions = {
  jobFolders: number;
  maxWatchedJobs: number;
  platform?: NodeJS.Platform;
  /** Where the limits are read; `/proc/sys/fs/inotify` on Linux (tests point it elsewhere). */
  procDir?: string;
};

const title = "inotify limits";

async function readLimit(procDir: string, name: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await readFile(path.join(procDir, name), "utf8")).trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export async function checkInotifyLimits(opts: InotifyOptions): Promise<DoctorCheck> {
  const platform = opts.platform ?? process.platform;
  if (platform !== "linux") return { id: "inotify", title, status: "skip", detail: `not Linux (${platform})` };
  const procDir = opts.procDir ?? "/proc/sys/fs/inotify";
  const [watches, instances] = await Promise.all([readLimit(procDir, "max_user_watches"), readLimit(procDir, "max_user_instances")]);
  if (watches === null || instances === null) {
    return {
      id: "inotify",
      title,
      status: "warn",
      detail: `cannot read ${procDir}/max_user_watches or max_user_instances`,
      fix: "check the limits by hand: `sysctl fs.inotify`",
    };
  }
  const active = Math.min(opts.jobFolders, opts.maxWatchedJobs);
  // +1: the jobs folder itself.
  const needed = active * WATCHES_PER_ACTIVE_JOB + 1;
  const want = needed * WATCH_HEADROOM;
  const detail = `max_user_watches ${watches}, max_user_instances ${instances}; up to ${active} active job${active === 1 ? "" : "s"} of ${opts.jobFolders} need about ${needed} watches`;
  const fixes: string[] = [];
  if (watches < want) {
    const target = Math.max(524_288, 2 ** Math.ceil(Math.log2(want)));
    fixes.push(
      `sudo sysctl fs.inotify.max_user_watches=${target} (persist: echo fs.inotify.max_user_watches=${target} | sudo tee /etc/sysctl.d/60-celstate-sync.conf)`,
    );
  }
  if (instances < MIN_INSTANCES) fixes.push("sudo sysctl fs.inotify.max_user_instances=512");
  if (fixes.length > 0) {
    return {
      id: "inotify",
      title,
      status: "warn",
      detail: `${detail}: low (the daemon would fall back to slower polling)`,
      fix: fixes.join("; "),
    };
  }
  return { id: "inotify", title, status: "ok", detail };
}
