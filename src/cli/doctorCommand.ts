/**
 * `celstate-sync doctor`: checks the setup one line at a time (configuration, deployment,
 * token, deployed functions, clock, jobs folder, inotify limits) and says what to do about
 * each problem. Exit 0 all ok (warnings allowed), 1 a check failed, 2 the configuration is wrong.
 * `--as-user <name>` (as root, before the unit starts): the jobs folder checked as the service
 * user as well; refused in one coded line when not root or when the user does not exist.
 */
import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import { type CommonFlags, defineCommand, resolveContext } from "./context.js";
import { SyncError } from "../errors/SyncError.js";
import { type DoctorCheck, doctorExitCode } from "../ops/DoctorCheck.js";
import { lookupUser } from "../ops/lookupUser.js";
import type { ServiceUser } from "../ops/permitsAs.js";
import { runDoctor } from "../ops/runDoctor.js";

type DoctorFlags = CommonFlags & { asUser?: string };

/**
 * The user `--as-user` names, looked up, when doctor runs as root. Looked up first, so a
 * misspelt name is said as such to anyone; only root can stat what the service user may reach
 * (folders closed to the caller would read as closed to everyone), hence the refusal otherwise.
 */
export function resolveServiceUser(name: string, uid: number | undefined = process.getuid?.()): ServiceUser {
  const user = lookupUser(name);
  if (uid !== 0) {
    throw new SyncError(
      "ROOT_REQUIRED",
      `--as-user ${name} checks the jobs folder as ${name}, which needs root: run it with sudo, or run doctor as ${name} without --as-user`,
    );
  }
  return user;
}

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
  const cmd = defineCommand("doctor", {
    description: "Check the configuration, the deployment, the token, the jobs folder and the inotify limits",
    options: [
      ["--json", "print the checks as one JSON object on stdout (logs go to stderr)"],
      [
        "--as-user <name>",
        "as root: also check that this user (the unit's User=) can write the jobs folder, the lock and every job folder",
      ],
    ],
    help: `
Examples:
  $ celstate-sync doctor
  $ CONVEX_URL=https://happy-otter-123.convex.cloud celstate-sync doctor --jobs-dir /srv/celstate/jobs --json
  $ sudo celstate-sync doctor --env-file /etc/celstate-sync.env --jobs-dir /srv/celstate/jobs --as-user celstate

Exit status: 0 all checks ok (warnings allowed), 1 a check failed, 2 configuration error.`,
  });
  cmd.action(async (flags: DoctorFlags) => {
    const asUser = flags.asUser === undefined ? undefined : resolveServiceUser(flags.asUser);
    let loaded: CommandContext | { error: Error };
    try {
      loaded = resolveContext(flags);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      loaded = { error: e };
    }
    const checks = await runDoctor({ loaded, ...(asUser ? { asUser } : {}) });
    const code = doctorExitCode(checks);
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok: code === 0, checks })}\n`);
    else process.stdout.write(formatDoctor(checks));
    process.exitCode = code;
  });
  return cmd;
}
