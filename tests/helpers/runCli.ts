/**
 * Runs `bin/celstate-sync.js` as a child process, the way a user or a supervisor does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./waitFor.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(REPO, "bin", "celstate-sync.js");

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** Environment without anything a developer's shell may carry for a real deployment. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("CELSTATE_SYNC_") || k === "CONVEX_URL") delete env[k];
  return { ...env, ...extra };
}

export type RunCliOptions = {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) if still running after this long. */
  timeoutMs?: number;
  /** A command the CLI runs under, e.g. `["setpriv", "--reuid", …, "--"]` to run it as another user. */
  via?: string[];
};

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const [command, ...prefix] = [...(opts.via ?? []), process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, prefix, {
      cwd: opts.cwd ?? REPO,
      env: opts.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running child (the daemon): collects output, can wait for a log line (on stderr). */
export class DaemonProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: opts.env ?? cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (b: Buffer) => (this.stdout += b.toString()));
    this.child.stderr!.on("data", (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Waits until the daemon has logged `text`; fails at once if it exits first. */
  async waitForLog(text: string, timeoutMs = 20_000): Promise<void> {
    const logged = await waitFor(() => (this.stderr.includes(text) ? "logged" : this.child.exitCode !== null ? "exited" : null), {
      timeoutMs,
      what: `"${text}" in daemon output`,
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}:\n${this.stdout}\n${this.stderr}`);
    });
    if (logged === "exited")
      throw new Error(`daemon exited (${this.child.exitCode}) before logging "${text}": ${this.stderr}${this.stdout}`);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return await this.exited;
  }
}
