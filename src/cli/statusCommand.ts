/**
 * `celstate-sync status`: how many jobs are in sync, pending, failed (failure marker),
 * unreadable or need attention, compared with Convex without changing anything. Exit 0 only
 * when every job is in sync.
 */
import type { Command } from "commander";
import { collectStatus, type StatusReport, statusExitCode } from "../ops/collectStatus.js";
import type { JobStatusEntry } from "../ops/classifyJobStatus.js";
import { describeJob, formatJobDetail, type JobDetail } from "../ops/describeJob.js";
import { readOnlyGateway } from "../ops/readOnlyGateway.js";
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { readLocalJob } from "../local/readJob.js";
import type { AssetRule } from "../local/types.js";
import { checkDeployment } from "../remote/checkDeployment.js";
import { type CommonFlags, createGateway, defineCommand, resolveContext } from "./context.js";
import { listTargets } from "./listTargets.js";
import { plural } from "../text/plural.js";

type StatusFlags = CommonFlags & { job?: string[]; all?: boolean };

/** Without --all or --job, at most this many not-in-sync jobs are named. */
const DEFAULT_LISTED = 20;

const LABELS: Record<JobStatusEntry["state"], string> = {
  "in-sync": "in sync",
  pending: "pending",
  failed: "failed",
  stuck: "stuck",
  unreadable: "unreadable",
  problem: "problem",
};

function entryLine(e: JobStatusEntry): string {
  const hint = e.state === "failed" ? ` (run \`celstate-sync retry ${e.jobId}\`)` : "";
  return `${LABELS[e.state].padEnd(10)} ${e.jobId}: ${e.detail}${hint}`;
}

/** The entries a run shows: all of them when asked for, else those needing a look. */
export function shownEntries(report: StatusReport, everything: boolean): JobStatusEntry[] {
  return everything ? report.entries : report.entries.filter((e) => e.state !== "in-sync");
}

export function formatStatus(report: StatusReport, everything: boolean): string {
  const c = report.counts;
  const lines = [
    plural(report.jobs, "job", "jobs"),
    `  in sync      ${c["in-sync"]}`,
    `  pending      ${c.pending}`,
    `  failed       ${c.failed}`,
    ...(c.stuck > 0 ? [`  stuck        ${c.stuck}`] : []),
    `  unreadable   ${c.unreadable}`,
    ...(c.problem > 0 ? [`  problem      ${c.problem}`] : []),
  ];
  const shown = shownEntries(report, everything);
  const listed = everything ? shown : shown.slice(0, DEFAULT_LISTED);
  for (const e of listed) lines.push(entryLine(e));
  if (listed.length < shown.length) lines.push(`… and ${shown.length - listed.length} more (run with --all)`);
  return `${lines.join("\n")}\n`;
}

/** One named job in detail: job.json's fields next to the stored ones, and the job's timeline. */
async function jobDetail(gateway: ConvexGateway, jobsDir: string, rules: readonly AssetRule[], jobId: string): Promise<JobDetail> {
  let local: Record<string, unknown> | null = null;
  try {
    local = (await readLocalJob(jobsDir, jobId, rules)).raw;
  } catch {
    // Unreadable: the report above already names the file and the reason.
  }
  const [stored, timeline] = await Promise.all([gateway.getRecord(jobId), gateway.timeline(jobId)]);
  return describeJob(jobId, local, stored, timeline);
}

export function statusCommand(): Command {
  const cmd = defineCommand("status", {
    description: "Compare every job on disk (or those named) with Convex and count them; change nothing",
    options: [
      ["--job <id...>", "only these job ids: list each, with its stored fields next to job.json's and its timeline"],
      ["--all", "list every job, not only those that are not in sync"],
      ["--json", "print the result as one JSON object on stdout (logs go to stderr)"],
    ],
    help: `
States:
  in sync      Convex holds exactly what is on disk
  pending      the daemon would upload or commit, or a file is still being written
  failed       job.json carries a failure marker (\`celstate-sync retry <id>\` clears it)
  stuck        the running daemon still fails on it past its retry limits, for a reason that is
               not the job's data (a bug, an overloaded deployment); retried, never marked
  unreadable   job.json cannot be parsed or is not a valid record (file and reason named)
  problem      not in sync and will not be without someone acting (e.g. a listed asset is missing)

Examples:
  $ celstate-sync status --jobs-dir /srv/celstate/jobs
  $ celstate-sync status --job 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42
      … then the job's fields, job.json next to the deployment (createdAt/updatedAt as stored,
      epoch ms), its stages with the time spent in each, and its whole timeline
  $ celstate-sync status --job 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42 --json

Exit status: 0 every job in sync, 1 some job is not, 2 usage or configuration error.`,
  });
  cmd.action(async (flags: StatusFlags) => {
    const ctx = resolveContext(flags);
    const gateway = readOnlyGateway(createGateway(ctx));
    await checkDeployment(gateway);
    const jobIds = await listTargets(ctx.config.jobsDir, flags.job);
    const report = await collectStatus({ config: ctx.config, gateway, jobIds, log: ctx.log });
    const named = flags.job !== undefined && flags.job.length > 0;
    const everything = flags.all === true || named;
    const details: JobDetail[] = [];
    if (named) for (const jobId of jobIds) details.push(await jobDetail(gateway, ctx.config.jobsDir, ctx.config.assets, jobId));
    if (flags.json) {
      const { entries: _all, ...rest } = report;
      process.stdout.write(`${JSON.stringify({ ...rest, entries: shownEntries(report, everything), ...(named ? { details } : {}) })}\n`);
    } else {
      process.stdout.write(formatStatus(report, everything));
      for (const d of details) process.stdout.write(`\n${formatJobDetail(d)}`);
    }
    process.exitCode = statusExitCode(report);
  });
  return cmd;
}
