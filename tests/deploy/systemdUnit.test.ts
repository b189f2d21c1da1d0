/**
 * The shipped systemd unit: hardened (systemd's own rating, `systemd-analyze security`, at most
 * 3.0), valid (`systemd-analyze verify`), and what the daemon needs: the installed binary, the
 * jobs folder named once, exit 2 not restarted, a start limit. systemd-analyze comes with
 * Debian's `systemd` package; where it is missing, the rating test checks, from the file itself,
 * every directive the rating rests on instead of being skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/runCli.js";
import { last, parseUnitFile, readUnitFile, type UnitFile } from "./unitFile.js";

const UNIT = path.join(REPO, "deploy", "celstate-sync@.service");
/** The instance the tests look at: the jobs folder /srv/celstate/jobs, escaped as systemd does. */
const INSTANCE = "celstate-sync@srv-celstate-jobs.service";
const MAX_EXPOSURE = 3.0;

function hasSystemdAnalyze(): boolean {
  return spawnSync("systemd-analyze", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A copy of the unit under its instance name in a temp folder, with `edit` applied to its text. */
async function withInstanceCopy<T>(edit: (text: string) => string, use: (file: string) => T): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "celstate-unit-"));
  try {
    const file = path.join(dir, INSTANCE);
    await writeFile(file, edit(await readFile(UNIT, "utf8")));
    return use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every directive the security rating below 3.0 rests on, checked in the file itself. */
function hardeningProblems(unit: UnitFile): string[] {
  const problems: string[] = [];
  const expectValue = (key: string, want: string) => {
    const got = last(unit, "Service", key);
    if (got !== want) problems.push(`expected ${key}=${want}, got ${got === undefined ? "nothing" : `${key}=${got}`}`);
  };
  for (const key of [
    "NoNewPrivileges",
    "PrivateTmp",
    "PrivateDevices",
    "PrivateMounts",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "RestrictNamespaces",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "LockPersonality",
    "RemoveIPC",
  ]) {
    expectValue(key, "true");
  }
  expectValue("ProtectSystem", "strict");
  expectValue("ProtectHome", "true");
  expectValue("ProtectProc", "invisible");
  expectValue("SystemCallArchitectures", "native");
  expectValue("CapabilityBoundingSet", "");
  expectValue("AmbientCapabilities", "");
  const families = (unit.Service?.RestrictAddressFamilies ?? []).join(" ").split(/\s+/).filter(Boolean).sort();
  if (families.join(" ") !== "AF_INET AF_INET6 AF_UNIX")
    problems.push(`expected RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX, got ${families.join(" ") || "nothing"}`);
  const filters = unit.Service?.SystemCallFilter ?? [];
  if (!filters.includes("@system-service")) problems.push("expected SystemCallFilter=@system-service");
  if (!filters.some((f) => f.startsWith("~") && f.includes("@privileged"))) problems.push("expected SystemCallFilter=~@privileged");
  // V8 compiles code into memory it then makes executable: node cannot start under this.
  if (last(unit, "Service", "MemoryDenyWriteExecute") === "true") problems.push("MemoryDenyWriteExecute=true stops V8 (node) from running");
  return problems;
}

describe("deploy/celstate-sync@.service", () => {
  const unit = readUnitFile(UNIT);

  it("systemd unit › rated at most 3.0 by `systemd-analyze security --offline` (or, without it, carries every directive the rating rests on)", async () => {
    if (!hasSystemdAnalyze()) {
      expect(hardeningProblems(unit)).toEqual([]);
      return;
    }
    const out = await withInstanceCopy(
      (t) => t,
      (file) => execFileSync("systemd-analyze", ["security", "--offline=true", "--no-pager", file], { encoding: "utf8" }),
    );
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1]), out).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it("systemd unit › carries every directive the rating rests on (the check used where systemd-analyze is missing)", () => {
    expect(hardeningProblems(unit)).toEqual([]);
  });

  it("systemd unit › `systemd-analyze verify` finds nothing to say", async (ctx) => {
    if (!hasSystemdAnalyze()) {
      // Without systemd-analyze the file is at least one systemd can read section by section.
      expect(Object.keys(unit).sort()).toEqual(["Install", "Service", "Unit"]);
      ctx.skip();
    }
    // verify refuses a unit whose ExecStart binary does not exist, and the package is not
    // installed globally where the tests run: the copy starts this node instead, with the same
    // arguments. Everything else is the shipped file as it is.
    const { status, stdout, stderr } = await withInstanceCopy(
      (t) => t.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`),
      (file) => spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" }),
    );
    expect({ status, output: `${stdout}${stderr}`.trim() }).toEqual({ status: 0, output: "" });
  });

  it("systemd unit › `systemd-analyze verify` does refuse a broken copy (the check above can fail)", async (ctx) => {
    if (!hasSystemdAnalyze()) ctx.skip();
    const { status, stdout, stderr } = await withInstanceCopy(
      (t) => t.replace(/^ExecStart=\S+/m, "ExecStart=/nonexistent/celstate-sync"),
      (file) => spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" }),
    );
    expect(status).not.toBe(0);
    expect(`${stdout}${stderr}`).toContain("/nonexistent/celstate-sync");
  });

  it("systemd unit › runs the installed binary, not node on a checkout", () => {
    const exec = last(unit, "Service", "ExecStart")!;
    expect(exec.split(/\s+/).slice(0, 2)).toEqual(["/usr/local/bin/celstate-sync", "watch"]);
    expect(last(unit, "Service", "WorkingDirectory")).toBeUndefined();
  });

  it("systemd unit › names the jobs folder once: the instance name, used for --jobs-dir and ReadWritePaths", () => {
    const exec = last(unit, "Service", "ExecStart")!;
    expect(exec).toMatch(/ --jobs-dir %f(\s|$)/);
    expect(unit.Service?.ReadWritePaths).toEqual(["%f"]);
    expect(JSON.stringify(unit)).not.toContain("CELSTATE_SYNC_JOBS_DIR");
    expect(JSON.stringify(unit)).not.toContain("/srv/");
  });

  it("systemd unit › exit 2 is never restarted, other failures are, within a start limit", () => {
    expect(last(unit, "Service", "Restart")).toBe("on-failure");
    expect(last(unit, "Service", "RestartPreventExitStatus")).toBe("2");
    expect(Number(last(unit, "Unit", "StartLimitIntervalSec"))).toBeGreaterThan(0);
    expect(Number(last(unit, "Unit", "StartLimitBurst"))).toBeGreaterThan(0);
    // The drain after SIGTERM (10 s by default) fits before systemd's SIGKILL.
    expect(Number(last(unit, "Service", "TimeoutStopSec"))).toBeGreaterThanOrEqual(15);
    expect(last(unit, "Service", "EnvironmentFile")).toBe("/etc/celstate-sync.env");
  });

  it("systemd unit › the rating's directive check catches a unit that lacks them", () => {
    const bare = parseUnitFile(
      "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nMemoryDenyWriteExecute=true\n[Install]\nWantedBy=multi-user.target\n",
    );
    const problems = hardeningProblems(bare);
    expect(problems).toContain("expected ProtectHome=true, got nothing");
    expect(problems).toContain("MemoryDenyWriteExecute=true stops V8 (node) from running");
  });
});

describe("ecosystem.config.cjs (pm2) agrees with the systemd unit", () => {
  const unit = readUnitFile(UNIT);

  it("pm2 file › the installed binary, the same stop and restart rules as the unit", async () => {
    const { default: eco } = (await import(path.join(REPO, "ecosystem.config.cjs"))) as {
      default: { apps: Array<Record<string, unknown>> };
    };
    expect(eco.apps).toHaveLength(1);
    const app = eco.apps[0]!;
    expect(app.script).toBe(last(unit, "Service", "ExecStart")!.split(/\s+/)[0]);
    expect(String(app.args).split(/\s+/)[0]).toBe("watch");
    expect(app.instances).toBe(1);
    // Exit 2 (an operator must act) is not restarted, as RestartPreventExitStatus=2.
    expect(app.stop_exit_codes).toEqual([0, 2]);
    expect(app.kill_signal).toBe(last(unit, "Service", "KillSignal"));
    expect(app.kill_timeout).toBe(Number(last(unit, "Service", "TimeoutStopSec")) * 1000);
    expect(app.restart_delay).toBe(Number(last(unit, "Service", "RestartSec")) * 1000);
    // A start limit like StartLimitBurst: a daemon that keeps dying at once stops being restarted.
    expect(app.max_restarts).toBe(Number(last(unit, "Unit", "StartLimitBurst")));
    expect(typeof app.min_uptime).toBe("number");
  });
});
