/**
 * `celstate-sync status`: how many jobs are in sync, would sync, are pending, parked (failure
 * marker), failed, stuck or otherwise off, compared with Convex without changing anything, in
 * the words of the engine's results (jobStatus.ts). Exit 0 only when every job is in sync.
 */
import type { Command } from "commander";
import { collectStatus, type StatusReport, statusExitCode } from "../ops/collectStatus.js";
import type { JobStatusEntry } from "../ops/classifyJobStatus.js";
import { JOB_STATUS_MEANINGS, OBSERVED_STATUSES, type ObservedStatus } from "../engine/jobStatus.js";
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

/** A status as the report prints it: its words, spaced. */
const label = (s: ObservedStatus): string => s.replace("-", " ");

/** Always counted, even at 0; the others only when some job has them. */
const ALWAYS_COUNTED: ReadonlySet<ObservedStatus> = new Set(["in-sync", "would-sync", "pending", "parked", "failed"]);

function entryLine(e: JobStatusEntry): string {
  const hint = e.state === "parked" ? ` (run \`celstate-sync retry ${e.jobId}\`)` : "";
  return `${label(e.state).padEnd(13)} ${e.jobId}: ${e.detail}${hint}`;
}

/** The entries a run shows: all of them when asked for, else those needing a look. */
export function shownEntries(report: StatusReport, everything: boolean): JobStatusEntry[] {
  return everything ? report.entries : report.entries.filter((e) => e.state !== "in-sync");
}

export function formatStatus(report: StatusReport, everything: boolean): string {
  const lines = [plural(report.jobs, "job", "jobs")];
  for (const s of OBSERVED_STATUSES) {
    const n = report.counts[s];
    if (n > 0 || ALWAYS_COUNTED.has(s)) lines.push(`  ${label(s).padEnd(14)}${n}`);
  }
  const shown = shownEntries(report, everything);
  const listed = everything ? shown : shown.slice(0, DEFAULT_LISTED);
  for (const e of listed) lines.push(entryLine(e));
  if (listed.length < shown.length) lines.push(`… and ${shown.length - listed.length} more (run with --all)`);
  return `${lines.join("\n")}\n`;
}

/** The help's list of states, from their one definition, each wrapped at 100 columns. */
function statesHelp(): string {
  const indent = " ".repeat(16);
  return OBSERVED_STATUSES.map((s) => {
    const lines = [`  ${label(s).padEnd(14)}`];
    for (const word of JOB_STATUS_MEANINGS[s].split(" ")) {
      const last = lines.length - 1;
      if (lines[last]!.length + word.length > 100) lines.push(indent + word);
      else lines[last] += lines[last]!.endsWith(" ") ? word : ` ${word}`;
    }
    return lines.join("\n");
  }).join("\n");
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
${statesHelp()}

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
