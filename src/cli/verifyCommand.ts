/**
 * `celstate-sync verify`: reads every job (or those named) back through the public surface,
 * `jobs:getPublic`, downloads each asset URL and compares everything with the files on disk.
 * Lists each mismatch (job, what, expected, got); exit 1 if there is any.
 */
import type { Command } from "commander";
import type { JobVerification, VerifyReport } from "../ops/verifyJobs.js";
import { verifyExitCode, verifyJobs } from "../ops/verifyJobs.js";
import { ConvexHttpGateway } from "../remote/ConvexHttpGateway.js";
import { type CommonFlags, defineCommand, requireConvexUrl, resolveContext } from "./context.js";
import { listTargets } from "./listTargets.js";
import { formatBytes } from "./progress.js";
import { plural } from "../text/plural.js";

type VerifyFlags = CommonFlags & { job?: string[] };

function jobLines(r: JobVerification): string[] {
  switch (r.state) {
    case "ok":
      return [];
    case "parked":
      return [`parked     ${r.jobId}: ${r.detail ?? ""} (not compared; \`celstate-sync retry ${r.jobId}\` syncs it again)`];
    case "unreadable":
      return [`unreadable ${r.jobId}: ${r.detail ?? ""}`];
    case "mismatch":
      return r.mismatches.map((m) => `mismatch   ${r.jobId} ${m.field}: expected ${m.expected}, got ${m.got}`);
  }
}

export function formatVerify(report: VerifyReport): string {
  const c = report.counts;
  const files = report.results.reduce((n, r) => n + r.assetsChecked, 0);
  const summary =
    `verified ${plural(report.jobs, "job", "jobs")}: ${c.ok} ok, ${c.mismatch} with mismatches, ${c.parked} parked, ${c.unreadable} unreadable` +
    ` (${files} asset${files === 1 ? "" : "s"} downloaded, ${formatBytes(report.bytesDownloaded)})`;
  return `${[summary, ...report.results.flatMap(jobLines)].join("\n")}\n`;
}

export function verifyCommand(): Command {
  const cmd = defineCommand("verify", {
    description: "Read jobs back through jobs:getPublic, download every asset and compare with the files on disk",
    options: [
      ["--job <id...>", "only these job ids"],
      ["--json", "print the result as one JSON object on stdout (logs go to stderr)"],
    ],
    help: `
Checks, per job: status, error and retry_after as in job.json; the component as in job.json
with its asset placeholders replaced by URLs; each URL serves the local file's bytes (sha256);
nothing internal is exposed (asset type, trace, local paths). Jobs with a failure marker are
reported as parked, not compared. Needs the deployment URL only (no token).

Examples:
  $ CONVEX_URL=https://happy-otter-123.convex.cloud celstate-sync verify --jobs-dir /srv/celstate/jobs
  $ celstate-sync verify --job 3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42 --json

Exit status: 0 everything matches, 1 some mismatch or unreadable job, 2 usage or configuration error.`,
  });
  cmd.action(async (flags: VerifyFlags) => {
    const ctx = resolveContext(flags);
    const url = requireConvexUrl(ctx);
    // verify reads the public surface only, as the external API's clients do: jobs:getPublic
    // takes no token, so none is required (and none is sent for it).
    const gateway = new ConvexHttpGateway({
      url,
      token: ctx.config.token ?? "",
      requestTimeoutMs: ctx.config.requestTimeoutMs,
      uploadTimeoutMs: ctx.config.uploadTimeoutMs,
    });
    const jobIds = await listTargets(ctx.config.jobsDir, flags.job);
    const report = await verifyJobs({ config: ctx.config, gateway, jobIds, log: ctx.log });
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(formatVerify(report));
    process.exitCode = verifyExitCode(report);
  });
  return cmd;
}
