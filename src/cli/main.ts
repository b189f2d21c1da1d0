/**
 * The command line: parses arguments, runs one command, maps errors to exit codes
 * (0 ok, 1 sync failures or mismatches, 2 usage or configuration). The only place that decides
 * how the process ends.
 */
import { Command, CommanderError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { SyncError } from "../errors/SyncError.js";
import { backfillCommand } from "./backfillCommand.js";
import { configCommand } from "./configCommand.js";
import { doctorCommand } from "./doctorCommand.js";
import { retryCommand } from "./retryCommand.js";
import { statusCommand } from "./statusCommand.js";
import { verifyCommand } from "./verifyCommand.js";
import { watchCommand } from "./watchCommand.js";

const { version } = pkg;

const TOP_LEVEL_HELP = `
Environment (each also read from .env.local and .env in the working folder, or from --env-file):
  CONVEX_URL                 the Convex deployment URL, e.g. https://happy-otter-123.convex.cloud
  CELSTATE_SYNC_TOKEN        the service token, the value set in the deployment with
                             \`npx convex env set CELSTATE_SYNC_TOKEN … --prod\` (never logged)
  CELSTATE_SYNC_JOBS_DIR     the pipeline's jobs/ folder (default ./jobs)
  CELSTATE_SYNC_CONCURRENCY  jobs reconciled at once (default 16)
  CELSTATE_SYNC_LOG_LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  CELSTATE_SYNC_HEALTH_PORT  watch: serve /healthz, /readyz and /metrics on 127.0.0.1:<port>

Examples:
  $ celstate-sync doctor --env-file /etc/celstate-sync.env       # is everything in place?
  $ celstate-sync backfill --jobs-dir /srv/celstate/jobs          # mirror the history once
  $ celstate-sync watch --jobs-dir /srv/celstate/jobs --health-port 9464
  $ celstate-sync status                                          # what is not in sync, and why
  $ celstate-sync <command> --help                                # each command's flags and examples

Exit status: 0 ok; 1 a job failed or a check found a mismatch; 2 something an operator must fix
(a bad flag or setting, no URL, a refused token, the jobs folder, the lock, the health port).
Logs go to stderr, a command's result alone to stdout.`;

export function buildProgram(): Command {
  const program = new Command("celstate-sync")
    .description("Mirror Celstate pipeline jobs (jobs/<id>/job.json, outputs/, trace/) into a Convex deployment.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", TOP_LEVEL_HELP)
    .exitOverride();
  program.addCommand(watchCommand().exitOverride());
  program.addCommand(backfillCommand().exitOverride());
  program.addCommand(retryCommand().exitOverride());
  program.addCommand(statusCommand().exitOverride());
  program.addCommand(verifyCommand().exitOverride());
  program.addCommand(doctorCommand().exitOverride());
  program.addCommand(configCommand().exitOverride());
  return program;
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof SyncError) {
      process.stderr.write(`celstate-sync: ${e.describe()}\n`);
      return e.kind === "fatal" ? 2 : 1;
    }
    process.stderr.write(`celstate-sync: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
