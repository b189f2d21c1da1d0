/**
 * What an operator must fix stops `watch` with exit 2 and one coded line (so systemd's
 * `RestartPreventExitStatus=2` and pm2's `stop_exit_codes` stop retrying), never a green daemon
 * that syncs nothing, never a stack trace.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
let scratch: string;
beforeEach(async () => {
  h = await createHarness();
  scratch = await mkdtemp(path.join(tmpdir(), "celstate-watch-start-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });

function oneCodedLine(stderr: string, code: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("{"));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(`[${code}]`);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain(h.token);
  return lines[0]!;
}

describe("watch refuses to start on what an operator must fix", () => {
  it("watch › a jobs folder that does not exist: exit 2, JOBS_DIR_UNREADABLE, and the folder is not created", async () => {
    const missing = path.join(scratch, "jobz");
    const r = await runCli(["watch", "--jobs-dir", missing], { env: env(), cwd: scratch, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(oneCodedLine(r.stderr, "JOBS_DIR_UNREADABLE")).toContain(`${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it("watch › a health port already in use: exit 2, HEALTH_PORT_UNAVAILABLE naming the port, the lock released", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runCli(["watch", "--jobs-dir", h.jobsDir, "--health-port", String(port)], {
        env: env(),
        cwd: scratch,
        timeoutMs: 20_000,
      });
      expect(r.code).toBe(2);
      expect(oneCodedLine(r.stderr, "HEALTH_PORT_UNAVAILABLE")).toContain(`127.0.0.1:${port}`);
      expect(existsSync(path.join(h.jobsDir, ".celstate-sync", "lock"))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe("flags go through the configuration schema and are checked at start", () => {
  it.each([
    [["--drain-ms", "-5"], "`watch.drainMs` from --drain-ms is invalid", "got `-5`"],
    [["--health-port", "abc"], "`healthPort` from --health-port is invalid", "got `abc`"],
    [["--concurrency", "0"], "`concurrency` from --concurrency is invalid", "got `0`"],
  ])("watch %j › refused at start: exit 2, one CONFIG_INVALID line showing what was typed", async (flags, names, shows) => {
    const r = await runCli(["watch", "--jobs-dir", h.jobsDir, ...flags], { env: env(), cwd: scratch, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    const line = oneCodedLine(r.stderr, "CONFIG_INVALID");
    expect(line).toContain(names);
    expect(line).toContain(shows);
    expect(existsSync(path.join(h.jobsDir, ".celstate-sync", "lock"))).toBe(false);
  });

  it("backfill --concurrency › is a setting like the others: used, and shown by config as a flag", async () => {
    const r = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--concurrency", "2", "--json"], { env: env(), cwd: scratch });
    expect(r.code, r.stderr).toBe(0);
    const shown = await runCli(["config", "--jobs-dir", h.jobsDir, "--json"], {
      env: cleanEnv({ CELSTATE_SYNC_CONCURRENCY: "3" }),
      cwd: scratch,
    });
    expect(JSON.parse(shown.stdout)).toMatchObject({ entries: expect.arrayContaining([{ key: "concurrency", value: 3, source: "env" }]) });
    const bad = await runCli(["backfill", "--jobs-dir", h.jobsDir, "--concurrency", "many"], { env: env(), cwd: scratch });
    expect(bad.code).toBe(2);
    expect(oneCodedLine(bad.stderr, "CONFIG_INVALID")).toContain("`concurrency` from --concurrency is invalid");
  });

  it("config --env-file › reads the file as a systemd EnvironmentFile=, the token masked", async () => {
    const envFile = path.join(scratch, "celstate-sync.env");
    await writeFile(envFile, `CONVEX_URL=${h.standin.url}\nCELSTATE_SYNC_TOKEN=${h.token}\n`);
    const r = await runCli(["config", "--env-file", envFile, "--json"], { env: cleanEnv(), cwd: scratch });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as { envFile: string; entries: Array<{ key: string; value?: unknown; source: string }> };
    expect(view.envFile).toBe(envFile);
    expect(view.entries).toEqual(
      expect.arrayContaining([
        { key: "convexUrl", value: h.standin.url, source: "env-file" },
        { key: "token", value: "***", source: "env-file" },
      ]),
    );
    expect(r.stdout + r.stderr).not.toContain(h.token);
  });
});
