/**
 * `celstate-sync retry <jobId...>` / `retry --all-failed`: puts back the state a failure marker
 * saved (`sync_failure.previous`), removes the marker, and syncs those jobs again.
 *
 * One process syncs a jobs folder at a time: retry takes the instance lock the daemon holds.
 * When a daemon holds it, retry only clears the markers and hands the jobs to it (it touches each
 * job folder, which the daemon's watch on the jobs folder hears), so the two never upload the
 * same files; the daemon's polling fallback hears it at its next rescan.
 */
import { stat, utimes } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { SyncError } from "../errors/SyncError.js";
import { assertJobId } from "../local/assertJobId.js";
import { clearFailureMarker } from "../local/failureMarker.js";
import { listJobIds } from "../local/listJobIds.js";
import { decodeJobJson, readJobJsonSync } from "../local/openJobJson.js";
import { parsePythonJson } from "../local/pythonJson.js";
import { checkDeployment } from "../remote/checkDeployment.js";
import { backfillExitCode, runBackfill } from "../engine/runBackfill.js";
import { acquireInstanceLock, type InstanceLock } from "../watch/instanceLock.js";
import { printSummary } from "./backfillCommand.js";
import { type CommonFlags, createGateway, defineCommand, resolveContext } from "./context.js";
import { plural } from "../text/plural.js";

type RetryFlags = CommonFlags & { allFailed?: boolean };

/**
 * Jobs whose job.json carries a failure marker, read as every other read of job.json is (no
 * symlink followed, size capped). Unreadable files are skipped (status reports them).
 */
export async function listMarkedJobs(jobsDir: string): Promise<string[]> {
  const marked: string[] = [];
  for (const id of await listJobIds(jobsDir)) {
    try {
      const text = decodeJobJson(readJobJsonSync(path.join(jobsDir, id), id).bytes);
      const raw = text === null ? null : parsePythonJson(text);
      if (raw !== null && typeof raw === "object" && "sync_failure" in raw) marked.push(id);
    } catch {
      // not ours to judge here
    }
  }
  return marked;
}

/** Every named job must be a folder in the jobs folder: a typo is said, not "synced". */
async function assertJobsExist(jobsDir: string, jobIds: string[]): Promise<void> {
  const missing: string[] = [];
  for (const id of jobIds) {
    assertJobId(id);
    const folder = await stat(path.join(jobsDir, id)).catch(() => null);
    if (folder === null || !folder.isDirectory()) missing.push(id);
  }
  if (missing.length > 0) {
    throw new SyncError(
      "NO_SUCH_JOB",
      `no such ${missing.length === 1 ? "job" : "jobs"} in ${jobsDir}: ${missing.join(", ")} (no folder of that name; \`celstate-sync status --all\` lists the jobs)`,
    );
  }
}

/** The instance lock, or null when a running daemon holds it. */
async function lockUnlessDaemonRuns(jobsDir: string): Promise<InstanceLock | null> {
  try {
    return await acquireInstanceLock(jobsDir);
  } catch (e) {
    // Held by another process (proper-lockfile's ELOCKED); any other LOCKED is a real failure.
    if (e instanceof SyncError && e.code === "LOCKED" && (e.cause as { code?: string } | undefined)?.code === "ELOCKED") return null;
    throw e;
  }
}

export function retryCommand(): Command {
  const cmd = defineCommand("retry", {
    description: "Clear the failure marker of jobs (restoring their previous state) and sync them again",
    arguments: [["[jobIds...]", "job ids to retry"]],
    options: [
      ["--all-failed", "every job that carries a failure marker"],
      ["--json", "print the summary as one JSON object on stdout"],
    ],
    help: `
Examples:
  $ celstate-sync retry 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42
  $ celstate-sync retry --all-failed

With a daemon running on the jobs folder, retry clears the markers and hands the jobs to it
(exit 0 once handed over); otherwise it syncs them itself and prints a summary like backfill.
Exit status: 0 in sync (or handed over), 1 some job failed, 2 usage or configuration error or
no such job.`,
  });
  cmd.action(async (jobIds: string[], flags: RetryFlags) => {
    if (jobIds.length === 0 && !flags.allFailed) {
      throw new SyncError("CONFIG_INVALID", "name the jobs to retry, or pass --all-failed");
    }
    const ctx = resolveContext(flags);
    const { jobsDir } = ctx.config;
    const gateway = createGateway(ctx);
    if (!flags.allFailed) await assertJobsExist(jobsDir, jobIds);
    await checkDeployment(gateway, { attempts: 4 });
    const lock = await lockUnlessDaemonRuns(jobsDir);
    try {
      const targets = flags.allFailed ? await listMarkedJobs(jobsDir) : [...new Set(jobIds)];
      for (const jobId of targets) {
        const result = await clearFailureMarker(path.join(jobsDir, jobId), jobId);
        ctx.log.info({ jobId, result }, result === "cleared" ? "failure marker cleared" : `marker not cleared: ${result}`);
      }
      if (lock === null) {
        const now = new Date();
        for (const jobId of targets) await utimes(path.join(jobsDir, jobId), now, now);
        const handed = { handedToDaemon: targets };
        if (flags.json) process.stdout.write(`${JSON.stringify(handed)}\n`);
        else {
          process.stdout.write(
            `${plural(targets.length, "job", "jobs")} handed to the daemon running on ${jobsDir}: it syncs ${targets.length === 1 ? "it" : "them"} now (\`celstate-sync status --job <id>\` shows the result)\n`,
          );
        }
        return;
      }
      const { summary, fatal } = await runBackfill({ config: ctx.config, gateway, log: ctx.log, jobIds: targets });
      if (fatal) throw fatal;
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else printSummary(summary);
      process.exitCode = backfillExitCode(summary, fatal);
    } finally {
      await lock?.release().catch(() => undefined);
    }
  });
  return cmd;
}
