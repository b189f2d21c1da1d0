/**
 * `celstate-sync retry <jobId...>` / `retry --all-failed`: puts back the state a failure marker
 * saved (`sync_failure.previous`), removes the marker, and syncs those jobs again.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { SyncError } from "../errors/SyncError.js";
import { clearFailureMarker } from "../local/failureMarker.js";
import { listJobIds } from "../local/listJobIds.js";
import { parsePythonJson } from "../local/pythonJson.js";
import { checkDeployment } from "../remote/checkDeployment.js";
import { backfillExitCode, runBackfill } from "../engine/runBackfill.js";
import { printSummary } from "./backfillCommand.js";
import { addCommonOptions, type CommonFlags, createGateway, resolveContext } from "./context.js";

type RetryFlags = CommonFlags & { allFailed?: boolean };

/** Jobs whose job.json carries a failure marker. Unreadable files are skipped (status reports them). */
export async function listMarkedJobs(jobsDir: string): Promise<string[]> {
  const marked: string[] = [];
  for (const id of await listJobIds(jobsDir)) {
    try {
      const raw = parsePythonJson(await readFile(path.join(jobsDir, id, "job.json"), "utf8"));
      if (raw !== null && typeof raw === "object" && "sync_failure" in raw) marked.push(id);
    } catch {
      // not ours to judge here
    }
  }
  return marked;
}

export function retryCommand(): Command {
  const cmd = new Command("retry")
    .description("Clear the failure marker of jobs (restoring their previous state) and sync them again")
    .argument("[jobIds...]", "job ids to retry")
    .option("--all-failed", "every job that carries a failure marker")
    .option("--json", "print the summary as one JSON object on stdout");
  addCommonOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ celstate-sync retry 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42
  $ celstate-sync retry --all-failed`,
  );
  cmd.action(async (jobIds: string[], flags: RetryFlags) => {
    if (jobIds.length === 0 && !flags.allFailed) {
      throw new SyncError("CONFIG_INVALID", "name the jobs to retry, or pass --all-failed");
    }
    const ctx = resolveContext(flags);
    const gateway = createGateway(ctx);
    await checkDeployment(gateway, { attempts: 4 });
    const targets = flags.allFailed ? await listMarkedJobs(ctx.config.jobsDir) : [...new Set(jobIds)];
    for (const jobId of targets) {
      const result = await clearFailureMarker(path.join(ctx.config.jobsDir, jobId), jobId);
      ctx.log.info({ jobId, result }, result === "cleared" ? "failure marker cleared" : `marker not cleared: ${result}`);
    }
    const { summary, fatal } = await runBackfill({ config: ctx.config, gateway, log: ctx.log, jobIds: targets });
    if (fatal) throw fatal;
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else printSummary(summary);
    process.exitCode = backfillExitCode(summary, fatal);
  });
  return cmd;
}
