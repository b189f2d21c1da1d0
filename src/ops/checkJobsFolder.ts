/**
 * `doctor`'s jobs-folder line: the folder exists, can be listed, and a file can be created and
 * removed in it (the daemon writes failure markers through temp files in job folders, and an
 * operator running it under the wrong user sees it here first). The probe file is a dotfile,
 * which the watcher and the job listing ignore. Also counts the job folders, for the inotify check.
 */
import { randomBytes } from "node:crypto";
import { stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { listJobIds } from "../local/listJobIds.js";
import type { DoctorCheck } from "./DoctorCheck.js";
import { plural } from "../text/plural.js";

export const DOCTOR_PROBE_PREFIX = ".celstate-sync-doctor-";

const title = "jobs folder";

function fail(detail: string, fix: string): { check: DoctorCheck; jobFolders: null } {
  return { check: { id: "jobs-dir", title, status: "fail", detail, fix }, jobFolders: null };
}

function reason(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

export async function checkJobsFolder(jobsDir: string): Promise<{ check: DoctorCheck; jobFolders: number | null }> {
  const fixPath = "point --jobs-dir (or CELSTATE_SYNC_JOBS_DIR, or jobsDir in celstate-sync.config.json) at the pipeline's jobs/ folder";
  try {
    const s = await stat(jobsDir);
    if (!s.isDirectory()) return fail(`${jobsDir} is not a folder`, fixPath);
  } catch (e) {
    return fail(`${jobsDir} does not exist (${reason(e)})`, fixPath);
  }
  let jobFolders: number;
  try {
    jobFolders = (await listJobIds(jobsDir)).length;
  } catch (e) {
    return fail(
      `${jobsDir} cannot be listed: ${e instanceof Error ? e.message : String(e)}`,
      "run celstate-sync as a user that can read the folder",
    );
  }
  const probe = path.join(jobsDir, `${DOCTOR_PROBE_PREFIX}${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(probe, "", { flag: "wx" });
  } catch (e) {
    return fail(
      `${jobsDir} is not writable (${reason(e)}): failure markers could not be written`,
      "run celstate-sync as the pipeline's user, or give it write access to the jobs folder",
    );
  }
  try {
    await unlink(probe);
  } catch (e) {
    return fail(`created ${probe} but could not remove it (${reason(e)})`, "check the folder's permissions (sticky bit, ACLs)");
  }
  return {
    check: {
      id: "jobs-dir",
      title,
      status: "ok",
      detail: `${jobsDir} exists, readable and writable; ${plural(jobFolders, "job folder", "job folders")}`,
    },
    jobFolders,
  };
}
