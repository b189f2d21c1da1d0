/**
 * What an operator must fix stops `watch` with exit 2 and one coded line (so systemd's
 * `RestartPreventExitStatus=2` and pm2's `stop_exit_codes` stop retrying), never a green daemon
 * that syncs nothing, never a stack trace.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
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
      const r = await runCli(["watch", "--jobs-dir", h.jobsDir, "--health-port", String(port)], { env: env(), cwd: scratch, timeoutMs: 20_000 });
      expect(r.code).toBe(2);
      expect(oneCodedLine(r.stderr, "HEALTH_PORT_UNAVAILABLE")).toContain(`127.0.0.1:${port}`);
      expect(existsSync(path.join(h.jobsDir, ".celstate-sync", "lock"))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
