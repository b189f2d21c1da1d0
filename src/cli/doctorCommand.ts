/**
 * `celstate-sync doctor`: checks the setup one line at a time (configuration, deployment,
 * token, deployed functions, clock, jobs folder, inotify limits) and says what to do about
 * each problem. Exit 0 all ok (warnings allowed), 1 a check failed, 2 the configuration is wrong.
 */
import { Command } from "commander";
import type { CommandContext } from "./context.js";
import { addCommonOptions, type CommonFlags, resolveContext } from "./context.js";
import { type DoctorCheck, doctorExitCode } from "../ops/DoctorCheck.js";
import { runDoctor } from "../ops/runDoctor.js";

const MARK: Record<DoctorCheck["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.title.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status]}  ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix !== undefined && (c.status === "warn" || c.status === "fail")) lines.push(`      ${" ".repeat(width)}  → ${c.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

export function doctorCommand(): Command {
  const cmd = new Command("doctor")
    .description("Check the configuration, the deployment, the token, the jobs folder and the inotify limits")
    .option("--json", "print the checks as one JSON object on stdout (logs go to stderr)");
  addCommonOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ celstate-sync doctor
  $ CONVEX_URL=https://happy-otter-123.convex.cloud celstate-sync doctor --jobs-dir /srv/celstate/jobs --json

Exit status: 0 all checks ok (warnings allowed), 1 a check failed, 2 configuration error.`,
  );
  cmd.action(async (flags: CommonFlags) => {
    let loaded: CommandContext | { error: Error };
    try {
      loaded = resolveContext(flags);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      loaded = { error: e };
    }
    const checks = await runDoctor({ loaded });
    const code = doctorExitCode(checks);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok: code === 0, checks })}\n`);
    else process.stdout.write(formatDoctor(checks));
    process.exitCode = code;
  });
  return cmd;
}
