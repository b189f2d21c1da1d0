/**
 * `celstate-sync backfill`: reconcile every job on disk (or those named) once, print a summary,
 * exit 0 only if everything is in sync afterwards.
 */
import type { Command } from "commander";
import { checkDeployment } from "../remote/checkDeployment.js";
import { backfillExitCode, type BackfillSummary, runBackfill } from "../engine/runBackfill.js";
import { BACKFILL_DRAIN_MS, SIGNAL_ACK_MS } from "../timing.js";
import type { JobResult } from "../engine/SyncEngine.js";
import { classifyError } from "../errors/classifyError.js";
import type { SyncError } from "../errors/SyncError.js";
import { type CommonFlags, createGateway, defineCommand, resolveContext } from "./context.js";
import { listTargets } from "./listTargets.js";
import { createProgress, formatBytes } from "./progress.js";
import { plural } from "../text/plural.js";

type BackfillFlags = CommonFlags & { dryRun?: boolean; checksum?: boolean; job?: string[]; progress?: boolean; concurrency?: string };

export function printSummary(s: BackfillSummary, out: NodeJS.WritableStream = process.stdout): void {
  const lines = [
    `${s.dryRun ? "dry run: " : ""}${plural(s.jobs, "job", "jobs")} in ${(s.durationMs / 1000).toFixed(1)}s`,
    `  in sync already   ${s.inSync}`,
    s.dryRun ? `  would sync        ${s.wouldSync}` : `  synced now        ${s.syncedNow}`,
    `  failed            ${s.failed.length}`,
    ...(s.stuck.length > 0 ? [`  stuck             ${s.stuck.length}`] : []),
    `  pending           ${s.pending.length}`,
    `  parked (marker)   ${s.parked.length}`,
    ...(s.remoteAhead.length > 0 ? [`  remote newer      ${s.remoteAhead.length}`] : []),
    `  files uploaded    ${s.filesUploaded} (${formatBytes(s.bytesUploaded)})`,
    `  requests          ${s.requests}`,
  ];
  if (s.deploymentDown) lines.push(`deployment not running: ${s.deploymentDown.reason}; the run stopped, no job was marked`);
  if (s.interrupted) lines.push(`interrupted by ${s.interrupted}: unfinished jobs are picked up by the next run`);
  for (const f of s.failed) lines.push(`failed ${f.jobId}: ${f.reason} (marker ${f.marker})`);
  for (const f of s.stuck) lines.push(`stuck ${f.jobId}: ${f.reason}`);
  for (const p of s.pending) lines.push(`pending ${p.jobId}: ${p.reason}`);
  for (const p of s.parked) lines.push(`parked ${p.jobId}: ${p.reason} (run \`celstate-sync retry ${p.jobId}\`)`);
  out.write(`${lines.join("\n")}\n`);
}

export function backfillCommand(): Command {
  const cmd = defineCommand("backfill", {
    description: "Reconcile every job on disk with Convex once, then exit (0 only if all are in sync)",
    options: [
      ["--dry-run", "print what would be uploaded, committed or removed; change nothing"],
      ["--checksum", "compare files by sha256 instead of size + mtime"],
      ["--job <id...>", "only these job ids"],
      ["--json", "print the summary as one JSON object on stdout (logs go to stderr)"],
      ["--no-progress", "no progress bar, even on a terminal"],
    ],
    reconciles: true,
    help: `
Examples:
  $ CONVEX_URL=https://happy-otter-123.convex.cloud CELSTATE_SYNC_TOKEN=… celstate-sync backfill --jobs-dir /srv/celstate/jobs
  $ celstate-sync backfill --dry-run --job 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42

Exit status: 0 all jobs in sync; 1 some job failed, is stuck or pending, or the deployment was not
running (the run waits for it up to retry.maxRetryMs, then stops; nothing is marked for it);
2 usage or configuration error; 130/143 stopped by SIGINT/SIGTERM (after its summary).`,
  });
  cmd.action(async (flags: BackfillFlags) => {
    const ctx = resolveContext(flags, { checksum: flags.checksum, concurrency: flags.concurrency });
    const gateway = createGateway(ctx);
    // Signals are taken over first, before any request: the first one stops the run (in-flight
    // work gets BACKFILL_DRAIN_MS), later ones are only acknowledged, so the summary is always
    // printed instead of the process dying mid-way.
    const abort = new AbortController();
    const stop = (signal: NodeJS.Signals) => {
      if (abort.signal.aborted) ctx.log.warn(`${signal} again: stopping within ${BACKFILL_DRAIN_MS} ms`);
      else abort.abort(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    let progress: ReturnType<typeof createProgress> | undefined;
    // The handshake runs alongside the listing and the first state reads, which need nothing
    // from it; uploads and commits wait for it. Not running or not answering: the run waits for
    // the deployment (up to retry.maxRetryMs) and then reports it in its summary; a refusal
    // (token, API) stops the run with exit 2, as it would before any job.
    let refusal: SyncError | null = null;
    const deploymentChecked = checkDeployment(gateway, { attempts: 4, signal: abort.signal }).then(
      () => undefined,
      (e: unknown) => {
        const err = classifyError(e);
        if (err.kind !== "outage" && err.kind !== "transient") {
          refusal = err;
          throw err;
        }
        if (!abort.signal.aborted) {
          ctx.log.warn({ code: err.code }, `Convex not ready (${err.message}); waiting for it for up to ${ctx.config.retry.maxRetryMs} ms`);
        }
      },
    );
    // Handled where it is awaited; this keeps a refusal arriving before then from counting as unhandled.
    deploymentChecked.catch(() => undefined);
    try {
      const jobIds = await listTargets(ctx.config.jobsDir, flags.job).catch(async (e: unknown) => {
        // A refused deployment is the first thing to fix, as when it was checked first.
        await deploymentChecked;
        throw e;
      });
      const interactive = flags.progress !== false && !flags.json && process.stderr.isTTY === true;
      progress = createProgress(jobIds.length, ctx.log, interactive);
      const { summary, fatal, results } = await runBackfill({
        config: ctx.config,
        gateway,
        log: ctx.log,
        jobIds,
        dryRun: flags.dryRun ?? false,
        onProgress: progress.update,
        signal: abort.signal,
        deploymentChecked,
      });
      progress.stop();
      // Whatever else stopped the run, the handshake's refusal says best what to fix.
      await deploymentChecked.catch(() => undefined);
      report(summary, refusal ?? fatal, results, flags);
    } finally {
      progress?.stop();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // A signal sent right after the first may still be on its way: with no listener left,
      // Node would let it kill the process before it exits with its own code (130/143).
      const acknowledge = () => {};
      process.on("SIGINT", acknowledge);
      process.on("SIGTERM", acknowledge);
      setTimeout(() => {
        process.off("SIGINT", acknowledge);
        process.off("SIGTERM", acknowledge);
      }, SIGNAL_ACK_MS).unref();
    }
  });
  return cmd;
}

function report(summary: BackfillSummary, fatal: SyncError | null, results: Map<string, JobResult>, flags: BackfillFlags): void {
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
}
