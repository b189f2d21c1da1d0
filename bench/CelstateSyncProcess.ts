/**
 * celstate-sync as its own process (`node bin/celstate-sync.js <command>`), the way a user or
 * a supervisor runs it, with the fs probe preloaded and /proc sampled: wall time, peak
 * resident memory, CPU time and how many asset files it opened.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BackfillSummary } from "../src/engine/runBackfill.js";
import { BIN, cleanEnv, REPO } from "../tests/helpers/runCli.js";
import { ProcSampler, readProcSnapshot } from "./procStats.js";

const FS_PROBE = fileURLToPath(new URL("./fsProbe.js", import.meta.url));
/** Inert unless the process gets BENCH_LOOP_PROBE_OUT (see loopProbe.js). */
const LOOP_PROBE = fileURLToPath(new URL("./loopProbe.js", import.meta.url));

export type CelstateSyncTarget = { url: string; token: string; jobsDir: string };

export type BackfillRun = {
  code: number | null;
  summary: BackfillSummary;
  wallMs: number;
  peakRssBytes: number;
  cpuMs: number;
  assetOpens: number;
};

export class CelstateSyncProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  readonly sampler: ProcSampler;
  stdout = "";
  stderr = "";
  /** The first few log lines at level error or fatal. */
  readonly errorLines: string[] = [];
  /** Every "rescan done" line, parsed (kept apart from the log's tail, which a busy daemon outgrows). */
  readonly rescans: Array<{ startMs: number; endMs: number }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private lastCpuMs = 0;
  private probed: number | null = null;

  private constructor(
    args: string[],
    target: CelstateSyncTarget,
    private readonly probeOut: string,
    env: Record<string, string>,
  ) {
    // BENCH_DAEMON_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=bench/out/prof") profiles the daemon.
    const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? "").split(" ").filter(Boolean);
    this.child = spawn(
      process.execPath,
      [...nodeArgs, "--import", FS_PROBE, "--import", LOOP_PROBE, BIN, ...args, "--jobs-dir", target.jobsDir],
      {
        cwd: REPO,
        env: cleanEnv({ CONVEX_URL: target.url, CELSTATE_SYNC_TOKEN: target.token, BENCH_FS_PROBE_OUT: probeOut, ...env }),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    // Keep only the tail of the log (stderr; a busy daemon logs a lot), but look at every line
    // for errors (pino level 50 and above).
    let partial = "";
    this.child.stderr!.on("data", (b: Buffer) => {
      const text = b.toString();
      this.stderr += text;
      if (this.stderr.length > 1_000_000) this.stderr = this.stderr.slice(-500_000);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (this.errorLines.length < 5 && /"level":(5|6)0/.test(line)) this.errorLines.push(line.slice(0, 500));
        if (line.includes('"rescan done"')) {
          const { time, ms } = JSON.parse(line) as { time: number; ms: number };
          this.rescans.push({ startMs: time - ms, endMs: time });
        }
      }
    });
    this.child.stdout!.on("data", (b: Buffer) => {
      this.stdout += b.toString();
      if (this.stdout.length > 400_000) this.stdout = this.stdout.slice(-200_000);
    });
    this.sampler = new ProcSampler(this.child.pid!).start();
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.sampler.stop();
        if (this.sampler.last) this.lastCpuMs = this.sampler.last.cpuMs;
        // The probe wrote its count at exit; keep it and leave no temp folder behind.
        readFile(this.probeOut, "utf8")
          .then(
            (text) => (this.probed = (JSON.parse(text) as { assetOpens: number }).assetOpens),
            () => undefined,
          )
          .finally(() => rm(path.dirname(this.probeOut), { recursive: true, force: true }).catch(() => undefined))
          .then(() => resolve({ code, signal }));
      }),
    );
  }

  static async spawn(args: string[], target: CelstateSyncTarget, env: Record<string, string> = {}): Promise<CelstateSyncProcess> {
    const dir = await mkdtemp(path.join(tmpdir(), "celstate-bench-probe-"));
    return new CelstateSyncProcess(args, target, path.join(dir, "probe.json"), env);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** CPU time so far (utime + stime); the last sampled value once the process has exited. */
  async cpuMs(): Promise<number> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.lastCpuMs;
    return (await readProcSnapshot(this.pid)).cpuMs;
  }

  async waitForLog(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes(text)) {
      if (this.child.exitCode !== null)
        throw new Error(
          `celstate-sync exited (${this.child.exitCode}) before logging "${text}": ${this.stderr.slice(-2000)}${this.stdout.slice(-2000)}`,
        );
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for "${text}" in celstate-sync's output`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Asset files opened, from the fs probe (once the process has exited). */
  async assetOpens(): Promise<number> {
    await this.exited;
    if (this.probed === null) throw new Error(`the fs probe wrote no count (exit ${this.child.exitCode}): ${this.stderr.slice(-1000)}`);
    return this.probed;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return await this.exited;
  }
}

/** One `celstate-sync backfill --json` run to its end. */
export async function runBackfillProcess(target: CelstateSyncTarget, env: Record<string, string> = {}): Promise<BackfillRun> {
  const p = await CelstateSyncProcess.spawn(["backfill", "--json", "--log-level", "warn"], target, env);
  const { code } = await p.exited;
  const wallMs = Date.now() - p.startedAt;
  const line = p.stdout.trim().split("\n").pop() ?? "";
  let summary: BackfillSummary;
  try {
    summary = JSON.parse(line) as BackfillSummary;
  } catch {
    throw new Error(`backfill printed no JSON summary (exit ${code}): ${p.stderr.slice(-2000)}${p.stdout.slice(-2000)}`);
  }
  return { code, summary, wallMs, peakRssBytes: p.sampler.peakHwmBytes, cpuMs: await p.cpuMs(), assetOpens: await p.assetOpens() };
}
