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

export function buildProgram(): Command {
  const program = new Command("celstate-sync")
    .description("Mirror Celstate pipeline jobs (jobs/<id>/job.json, outputs/, trace/) into a Convex deployment.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
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
