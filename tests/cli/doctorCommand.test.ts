import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DoctorCheck } from "../../src/ops/DoctorCheck.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { cleanEnv, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";
import { runMain, useEmptyCwd } from "./operatorHarness.js";

useEmptyCwd();
let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

type DoctorJson = { ok: boolean; checks: DoctorCheck[] };
const statuses = (j: DoctorJson) => Object.fromEntries(j.checks.map((c) => [c.id, c.status]));

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("celstate-sync doctor (against the stand-in)", () => {
  it("doctor --env-file › reads the URL and the token from the file the systemd unit reads, as the unit does", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const etc = await mkdtemp(path.join(tmpdir(), "celstate-etc-"));
    try {
      const envFile = path.join(etc, "celstate-sync.env");
      await writeFile(envFile, `CONVEX_URL=${h.standin.url}\nCELSTATE_SYNC_TOKEN=${h.token}\n`, { mode: 0o600 });
      const r = await runCli(["doctor", "--env-file", envFile, "--jobs-dir", h.jobsDir, "--json"], { env: cleanEnv(), cwd: etc });
      expect(r.code, r.stderr).toBe(0);
      expect(statuses(JSON.parse(r.stdout) as DoctorJson)).toMatchObject({
        config: "ok",
        "convex-url": "ok",
        reachable: "ok",
        token: "ok",
        functions: "ok",
      });
      expect(r.stdout + r.stderr).not.toContain(h.token);
    } finally {
      await rm(etc, { recursive: true, force: true });
    }
  });

  it("doctor › against a working stand-in every check passes (exit 0) and no probe file is left", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const r = await runMain(["doctor", "--jobs-dir", h.jobsDir, "--convex-url", h.standin.url, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as DoctorJson;
    expect(j.ok).toBe(true);
    expect(statuses(j)).toMatchObject({
      config: "ok",
      "convex-url": "ok",
      reachable: "ok",
      token: "ok",
      functions: "ok",
      clock: "ok",
      "jobs-dir": "ok",
    });
    // The machine's own inotify limits decide this one; it can warn, never fail.
    expect(["ok", "warn", "skip"]).toContain(statuses(j).inotify);
    expect(j.checks.find((c) => c.id === "jobs-dir")!.detail).toContain("1 job folder");
    expect((await readdir(h.jobsDir)).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("doctor › prints one line per check with its status", async () => {
    const r = await runMain(["doctor", "--jobs-dir", h.jobsDir, "--convex-url", h.standin.url]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .filter((l) => !l.startsWith(" "));
    expect(lines.map((l) => l.split(/\s{2,}/)[1])).toEqual([
      "configuration",
      "Convex URL",
      "deployment reachable",
      "service token",
      "deployed functions",
      "clock skew",
      "jobs folder",
      "inotify limits",
      "marker swap",
    ]);
    expect(r.stdout).toMatch(/^ok {4}service token +accepted$/m);
    expect(r.stdout).toMatch(/^ok {4}marker swap +atomic exchange/m);
  });

  it("doctor › with a wrong token reports the token check failing (exit 1), the token never printed", async () => {
    // A child process: in this one the stand-in and the CLI share CELSTATE_SYNC_TOKEN.
    const r = await runCli(["doctor", "--jobs-dir", h.jobsDir], {
      env: cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: "wrong-token-value" }),
      cwd: h.jobsDir,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}service token +the deployment refused the service token$/m);
    expect(r.stdout).toMatch(/→ set CELSTATE_SYNC_TOKEN/);
    expect(r.stdout).toMatch(/^ok {4}deployment reachable/m);
    expect(r.stdout + r.stderr).not.toContain("wrong-token-value");
  });

  it("doctor › an unreachable deployment fails reachability (exit 1)", async () => {
    const r = await runMain(["doctor", "--jobs-dir", h.jobsDir, "--convex-url", `http://127.0.0.1:${await closedPort()}`, "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as DoctorJson;
    expect(statuses(j)).toMatchObject({ reachable: "fail", token: "skip", "jobs-dir": "ok" });
    expect(j.checks.find((c) => c.id === "reachable")!.detail).toContain("NETWORK");
  });

  it("doctor › a missing jobs folder fails its check (exit 1)", async () => {
    const r = await runMain(["doctor", "--jobs-dir", path.join(h.jobsDir, "missing"), "--convex-url", h.standin.url, "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as DoctorJson;
    expect(j.checks.find((c) => c.id === "jobs-dir")).toMatchObject({ status: "fail", detail: expect.stringContaining("does not exist") });
    expect(statuses(j).inotify).toBe("skip");
  });

  it("doctor › no Convex URL is a configuration error (exit 2)", async () => {
    const r = await runMain(["doctor", "--jobs-dir", h.jobsDir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^FAIL {2}Convex URL +no Convex deployment URL is set$/m);
  });

  it("doctor › an invalid configuration is reported as the first check (exit 2)", async () => {
    await writeFile("bad.config.json", JSON.stringify({ concurrency: 0 }));
    const r = await runMain(["doctor", "--jobs-dir", h.jobsDir, "--config", "bad.config.json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^FAIL {2}configuration +`concurrency` in .*bad\.config\.json is invalid/m);
  });

  it("doctor › --help shows an example and the exit codes", async () => {
    const r = await runMain(["doctor", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:\n  $ celstate-sync doctor");
    expect(r.stdout).toContain("Exit status: 0 all checks ok (warnings allowed), 1 a check failed, 2 configuration error.");
  });
});
