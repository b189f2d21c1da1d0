/**
 * `doctor --as-user <name>`'s line: run as root, says whether the service user (the unit's
 * `User=`), not root, can do what the daemon does in the jobs folder: enter every folder on the
 * way, list the jobs folder, create the instance lock (`<jobs>/.celstate-sync/`), and write a
 * failure marker into each job folder (a temp file, then renamed over job.json, which it must
 * read first), and read its outputs/ and trace/ folders.
 *
 * Decided from stat and mode bits (permitsAs), not by switching to the user: root can stat
 * everything, and a pure answer needs neither setpriv nor a second process per folder. What it
 * does not see: ACLs (an `ls -l` mode ending in `+`) and read-only mounts. Root's own probe
 * file in the jobs-folder check catches the latter; for the former, `setfacl`'s user knows.
 * Read-only: it stats, it never writes.
 */
import type { Stats } from "node:fs";
import { lstat, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { listJobIds } from "../local/listJobIds.js";
import { LOCK_NAME } from "../watch/instanceLock.js";
import type { DoctorCheck } from "./DoctorCheck.js";
import { mapLimit } from "./mapLimit.js";
import { mayReplaceIn, permitsAs, type ServiceUser } from "./permitsAs.js";
import { plural } from "../text/plural.js";

const SHOWN = 3;

function owner(st: Stats): string {
  return `mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}, owner ${st.uid}:${st.gid}`;
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** What the user cannot do in one job folder, or null. */
async function jobProblem(jobsDir: string, jobId: string, user: ServiceUser): Promise<string | null> {
  const dir = path.join(jobsDir, jobId);
  const folder = await statOrNull(dir);
  if (folder === null) return null; // removed since the listing: nothing to sync
  if (!permitsAs(folder, user, { read: true, search: true })) return `job ${jobId}: cannot enter or list ${dir} (${owner(folder)})`;
  const record = await statOrNull(path.join(dir, "job.json"));
  if (record !== null) {
    if (!permitsAs(record, user, { read: true })) return `job ${jobId}: cannot read job.json (${owner(record)})`;
    if (!mayReplaceIn(folder, record, user)) return `job ${jobId}: cannot write a failure marker in ${dir} (${owner(folder)})`;
  } else if (!permitsAs(folder, user, { write: true, search: true })) {
    return `job ${jobId}: cannot write a failure marker in ${dir} (${owner(folder)})`;
  }
  for (const sub of ["outputs", "trace"]) {
    const st = await statOrNull(path.join(dir, sub));
    if (st?.isDirectory() && !permitsAs(st, user, { read: true, search: true })) return `job ${jobId}: cannot read ${sub}/ (${owner(st)})`;
  }
  return null;
}

export async function checkAccessAs(jobsDir: string, user: ServiceUser): Promise<DoctorCheck> {
  const who = `${user.name} (uid ${user.uid}, gid ${user.gid})`;
  const result = (status: "ok" | "fail", detail: string): DoctorCheck => ({
    id: "as-user",
    title: "service user",
    status,
    detail,
    ...(status === "fail"
      ? {
          fix: `give ${user.name} access (chown -R ${user.name}: ${jobsDir}, or a group it is in with chmod -R g+rwX), or run the daemon as the pipeline's user (User= in the unit)`,
        }
      : {}),
  });
  const real = await realpath(jobsDir);
  // Every folder above the jobs folder must let the user through (x), or nothing below counts.
  for (let dir = path.dirname(real), seen = ""; dir !== seen; seen = dir, dir = path.dirname(dir)) {
    const st = await stat(dir);
    if (!permitsAs(st, user, { search: true }))
      return result("fail", `${user.name} cannot enter ${dir} (${owner(st)}), on the way to ${jobsDir}`);
  }
  const top = await stat(real);
  if (!permitsAs(top, user, { read: true, search: true }))
    return result("fail", `${jobsDir} cannot be listed by ${user.name} (${owner(top)})`);

  // The lock: created in <jobs>/.celstate-sync/ (made if missing, which needs the jobs folder
  // writable); a lock left by a crash is removed and taken over, which needs the lock writable.
  const lockParent = path.join(real, path.dirname(LOCK_NAME));
  const lockDir = await statOrNull(lockParent);
  if (lockDir === null) {
    if (!permitsAs(top, user, { write: true, search: true })) {
      return result("fail", `${jobsDir} is not writable by ${user.name} (${owner(top)}): the instance lock cannot be created in it`);
    }
  } else if (!permitsAs(lockDir, user, { write: true, search: true })) {
    return result("fail", `${lockParent} is not writable by ${user.name} (${owner(lockDir)}): the instance lock cannot be created in it`);
  } else {
    const lock = await statOrNull(path.join(real, LOCK_NAME));
    if (lock !== null && !permitsAs(lock, user, { write: true, search: true })) {
      return result("fail", `the lock ${path.join(jobsDir, LOCK_NAME)} left there is not ${user.name}'s to remove (${owner(lock)})`);
    }
  }

  const ids = await listJobIds(real);
  const problems = (await mapLimit(ids, 32, (id) => jobProblem(real, id, user))).filter((p): p is string => p !== null);
  if (problems.length > 0) {
    const more = problems.length > SHOWN ? `; and ${problems.length - SHOWN} more` : "";
    return result(
      "fail",
      `${problems.length} of ${plural(ids.length, "job folder", "job folders")} ${problems.length === 1 ? "is" : "are"} not ${user.name}'s to sync: ${problems.slice(0, SHOWN).join("; ")}${more}`,
    );
  }
  return result(
    "ok",
    `${who} can enter ${jobsDir}, create the instance lock in it and write failure markers in ${plural(ids.length, "job folder", "job folders")}`,
  );
}
