/**
 * `celstate-sync backfill`: reconcile every job on disk (or those named) once, print a summary,
 * exit 0 only if everything is in sync afterwards.
 */
import { Command } from "commander";
import { checkDeployment } from "../remote/checkDeployment.js";
import { backfillExitCode, type BackfillSummary, runBackfill } from "../engine/runBackfill.js";
import { addCommonOptions, type CommonFlags, createGateway, resolveContext } from "./context.js";
import { listTargets } from "./listTargets.js";
import { createProgress, formatBytes } from "./progress.js";

type BackfillFlags = CommonFlags & { dryRun?: boolean; checksum?: boolean; job?: string[]; progress?: boolean };

export function printSummary(s: BackfillSummary, out: NodeJS.WritableStream = process.stdout): void {
  const lines = [
    `${s.dryRun ? "dry run: " : ""}${s.jobs} jobs in ${(s.durationMs / 1000).toFixed(1)}s`,
    `  in sync already   ${s.inSync}`,
    s.dryRun ? `  would sync        ${s.wouldSync}` : `  synced now        ${s.syncedNow}`,
    `  failed            ${s.failed.length}`,
    `  pending           ${s.pending.length}`,
    `  parked (marker)   ${s.parked.length}`,
    ...(s.remoteAhead.length > 0 ? [`  remote newer      ${s.remoteAhead.length}`] : []),
    `  files uploaded    ${s.filesUploaded} (${formatBytes(s.bytesUploaded)})`,
    `  requests          ${s.requests}`,
  ];
  for (const f of s.failed) lines.push(`failed ${f.jobId}: ${f.reason} (marker ${f.marker})`);
  for (const p of s.pending) lines.push(`pending ${p.jobId}: ${p.reason}`);
  for (const p of s.parked) lines.push(`parked ${p.jobId}: ${p.reason} (run \`celstate-sync retry ${p.jobId}\`)`);
  out.write(`${lines.join("\n")}\n`);
}

export function backfillCommand(): Command {
  const cmd = new Command("backfill")
    .description("Reconcile every job on disk with Convex once, then exit (0 only if all are in sync)")
    .option("--dry-run", "print what would be uploaded, committed or removed; change nothing")
    .option("--checksum", "compare files by sha256 instead of size + mtime")
    .option("--job <id...>", "only these job ids")
    .option("--json", "print the summary as one JSON object on stdout (logs go to stderr)")
    .option("--no-progress", "no progress bar, even on a terminal");
  addCommonOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ CONVEX_URL=https://happy-otter-123.convex.cloud CELSTATE_SYNC_TOKEN=… celstate-sync backfill --jobs-dir /srv/celstate/jobs
  $ celstate-sync backfill --dry-run --job 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42

Exit status: 0 all jobs in sync, 1 some job failed or is pending, 2 usage or configuration error.`,
  );
  cmd.action(async (flags: BackfillFlags) => {
    const ctx = resolveContext(flags, { checksum: flags.checksum });
    const gateway = createGateway(ctx.config);
    await checkDeployment(gateway, { attempts: 4 });
    const jobIds = await listTargets(ctx.config.jobsDir, flags.job);
    const interactive = flags.progress !== false && !flags.json && process.stderr.isTTY === true;
    const progress = createProgress(jobIds.length, ctx.log, interactive);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const { summary, fatal, results } = await runBackfill({
      config: ctx.config,
      gateway,
      log: ctx.log,
      jobIds,
      dryRun: flags.dryRun ?? false,
      onProgress: progress.update,
      signal: abort.signal,
    }).finally(() => {
      progress.stop();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    });
    if (fatal) throw fatal;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      if (flags.dryRun) {
        for (const [jobId, r] of results) if (r.status === "would-sync") process.stdout.write(`would sync ${jobId}: ${r.detail}\n`);
      }
      printSummary(summary);
    }
    process.exitCode = backfillExitCode(summary, fatal);
  });
  return cmd;
}
