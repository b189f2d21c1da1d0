/**
 * Every command writes its result alone to stdout and its log lines to stderr, so that
 * `celstate-sync status --json | jq …` and `backfill > summary.txt` hold the result and nothing
 * else. The binary, as an operator runs it (stderr is not a terminal here: JSON log lines).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFailureMarker } from "../../src/local/failureMarker.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { BIN, cleanEnv, DaemonProcess, runCli } from "../helpers/runCli.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
let cwd: string;
beforeEach(async () => {
  h = await createHarness();
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-streams-"));
});
afterEach(async () => {
  await h.cleanup();
  await rm(cwd, { recursive: true, force: true });
});

const env = () => cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token });
const run = (...args: string[]) => runCli([...args, "--jobs-dir", h.jobsDir], { env: env(), cwd });

type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** stderr, each line a pino JSON line; fails on anything else (a summary line, a half line). */
function logLines(stderr: string): LogLine[] {
  return stderr
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const parsed = JSON.parse(l) as LogLine;
      expect(typeof parsed.level, l).toBe("number");
      return parsed;
    });
}

/** stdout holds no log line. */
function noLogLines(stdout: string): void {
  expect(stdout).not.toMatch(/^\{"level":/m);
  expect(stdout).not.toContain('"msg":');
}

async function unparsableJob(): Promise<string> {
  const j = new PipelineJob(h.jobsDir);
  await j.queued();
  await writeFile(path.join(j.dir, "job.json"), "{not json");
  return j.id;
}

describe("every command: the result on stdout, the logs on stderr", () => {
  it("backfill › the summary alone on stdout, a line per job on stderr", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const bad = await unparsableJob();
    const r = await run("backfill");
    expect(r.code, r.stderr).toBe(1);
    noLogLines(r.stdout);
    expect(r.stdout).toMatch(/^2 jobs in \d+\.\ds\n {2}in sync already {3}0\n/);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^failed ${bad}: `));
    const logs = logLines(r.stderr);
    expect(logs.filter((l) => l.msg === "synced")).toHaveLength(1);
    expect(logs.filter((l) => l.code === "JOB_JSON_UNPARSABLE" && l.jobId === bad)).toHaveLength(1);
  });

  it("backfill › --json: one JSON value on stdout, the log lines on stderr", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const r = await run("backfill", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ jobs: 1, syncedNow: 1 });
    expect(logLines(r.stderr).filter((l) => l.msg === "synced")).toHaveLength(1);
  });

  it("retry › the summary alone on stdout, the cleared marker and the sync on stderr", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    expect(await writeFailureMarker(j.dir, j.id, { reason: "test reason", attempts: 3, retryable: false })).toBe("written");
    const r = await run("retry", j.id);
    expect(r.code, r.stderr).toBe(0);
    noLogLines(r.stdout);
    expect(r.stdout).toMatch(/^1 job in \d+\.\ds\n {2}in sync already {3}0\n {2}synced now {8}1\n/);
    const logs = logLines(r.stderr);
    expect(logs.filter((l) => l.msg === "failure marker cleared" && l.jobId === j.id)).toHaveLength(1);
    expect(logs.filter((l) => l.msg === "synced" && l.jobId === j.id)).toHaveLength(1);
  });

  it("status › the report alone on stdout (text and --json), the debug lines on stderr", async () => {
    const bad = await unparsableJob();
    const r = await run("status", "--log-level", "debug");
    expect(r.code, r.stderr).toBe(1);
    noLogLines(r.stdout);
    expect(r.stdout).toMatch(/^1 job\n {2}in sync {7}0\n/);
    expect(r.stdout).toContain(`failed        ${bad}: `);
    expect(logLines(r.stderr).filter((l) => l.msg === "status: job not in sync" && l.jobId === bad)).toHaveLength(1);

    const j = await run("status", "--log-level", "debug", "--json");
    expect(JSON.parse(j.stdout)).toMatchObject({ jobs: 1 });
    expect(logLines(j.stderr).filter((l) => l.msg === "status: job not in sync")).toHaveLength(1);
  });

  it("verify › the report alone on stdout, the debug lines on stderr", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess(); // never synced: the deployment has nothing for it
    const r = await run("verify", "--log-level", "debug");
    expect(r.code, r.stderr).toBe(1);
    noLogLines(r.stdout);
    expect(r.stdout).toMatch(/^verified 1 job: 0 ok, 1 with mismatches/);
    expect(logLines(r.stderr).filter((l) => l.msg === "verify: mismatch" && l.jobId === j.id)).toHaveLength(1);
  });

  it("doctor › the checks alone on stdout (text and --json), nothing else on stderr", async () => {
    const r = await run("doctor", "--log-level", "trace");
    expect(r.code, r.stdout).toBe(0);
    for (const l of r.stdout.trimEnd().split("\n")) expect(l).toMatch(/^(ok {2}|warn|FAIL|skip) {2}\S|^ {6}/);
    logLines(r.stderr);
    const j = await run("doctor", "--log-level", "trace", "--json");
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true });
    logLines(j.stderr);
  });

  it("config › the configuration alone on stdout (text and --json), nothing else on stderr", async () => {
    const r = await run("config", "--log-level", "trace");
    expect(r.code).toBe(0);
    noLogLines(r.stdout);
    expect(r.stdout).toMatch(/^ {2}jobsDir +".+" {2}\(flag\)$/m);
    logLines(r.stderr);
    const j = await run("config", "--log-level", "trace", "--json");
    expect(JSON.parse(j.stdout)).toBeTypeOf("object");
    logLines(j.stderr);
  });

  it("watch › nothing on stdout, every log line on stderr", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const d = new DaemonProcess(["watch", "--jobs-dir", h.jobsDir], { env: env(), cwd });
    try {
      await waitFor(() => d.stderr.includes("start-up reconcile done") || d.child.exitCode !== null, {
        timeoutMs: 20_000,
        what: "the start-up reconcile",
      });
      const { code } = await d.stop("SIGTERM");
      expect(code, `${d.stdout}\n${d.stderr}`).toBe(0);
      expect(d.stdout).toBe("");
      const logs = logLines(d.stderr);
      expect(logs.filter((l) => l.msg === "synced")).toHaveLength(1);
      expect(logs.at(-1)?.msg).toBe("stopped");
    } finally {
      await d.stop("SIGKILL");
    }
  });
});

describe("a reader that stops early (`| head`)", () => {
  /** Runs the binary with its stdout a pipe whose reading end is closed before it writes. */
  async function withStdoutClosed(args: string[]): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env(), stdio: ["ignore", "pipe", "pipe"] });
    try {
      child.stdout.destroy();
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      return { code, stderr };
    } finally {
      child.kill("SIGKILL");
    }
  }

  it("--help and backfill --json end as they would have, without an EPIPE crash", async () => {
    const help = await withStdoutClosed(["backfill", "--help"]);
    expect(help.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(help.code).toBe(0);
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    const backfill = await withStdoutClosed(["backfill", "--json", "--jobs-dir", h.jobsDir]);
    expect(backfill.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(backfill.code).toBe(0);
    expect(h.standin.commits().map((c) => c.jobId)).toEqual([j.id]);
  });
});
