/**
 * Shared pieces of the reliability suite: the daemon run as its own process with a config file
 * of the test's choosing (never the repository's), its JSON log lines, its resident memory, the
 * `verify` command, and a batched check that Convex holds exactly what is on disk.
 *
 * Owns nothing in src/: it drives the real binary and reads the stand-in's public surface.
 */
import { isoToMicros } from "../../convex/lib/time.js";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import type { ConfigInput } from "../../src/config/configSchema.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { cleanEnv, DaemonProcess, runCli } from "../helpers/runCli.js";
import type { Harness } from "../helpers/syncHarness.js";

const getStates = makeFunctionReference<"query">("sync:getStates");
const handshake = makeFunctionReference<"query">("sync:handshake");

/** True when the stand-in answers a handshake (no fault in the way); false while it refuses or fails. */
export async function standinAnswers(h: Harness): Promise<boolean> {
  try {
    await h.client.query(handshake, { serviceToken: h.token, clientTimeMs: Date.now() });
    return true;
  } catch {
    return false;
  }
}

/** Environment for a child command against the harness's stand-in. */
export function standinEnv(h: Harness, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ CONVEX_URL: h.standin.url, CELSTATE_SYNC_TOKEN: h.token, ...extra });
}

/** Writes `celstate-sync.config.json` into `dir` (the child's working folder) and returns its path. */
export async function writeDaemonConfig(dir: string, config: Partial<ConfigInput>): Promise<string> {
  const file = path.join(dir, "celstate-sync.config.json");
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** `watch` as a child process, run from `cwd` so only the test's config file is read. */
export function startDaemon(h: Harness, cwd: string, extraArgs: string[] = [], env?: NodeJS.ProcessEnv): DaemonProcess {
  return new DaemonProcess(["watch", "--jobs-dir", h.jobsDir, ...extraArgs], { env: env ?? standinEnv(h), cwd });
}

/** The daemon's JSON log lines (pino), skipping anything that is not one. */
export function logLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}

/** Resident set size of a process in KiB, from /proc (Linux); null once it is gone. */
export async function rssKiB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns every sample (KiB). */
export function sampleRss(pid: number, everyMs = 100): { taken: () => number; stop: () => Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const kib = await rssKiB(pid);
      if (kib !== null) samples.push(kib);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    taken: () => samples.length,
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

export type VerifyJson = {
  jobs: number;
  counts: { ok: number; mismatch: number; parked: number; unreadable: number };
  results: Array<{ jobId: string; state: string; mismatches: unknown[]; detail?: string }>;
};

/** `celstate-sync verify --json` over the jobs folder (another than the harness's when given), or the named jobs. */
export async function runVerify(
  h: Harness,
  cwd: string,
  jobIds: string[] = [],
  jobsDir = h.jobsDir,
): Promise<{ code: number | null; report: VerifyJson; stderr: string }> {
  const args = ["verify", "--jobs-dir", jobsDir, "--json", "--log-level", "warn", ...(jobIds.length ? ["--job", ...jobIds] : [])];
  const r = await runCli(args, { env: standinEnv(h), cwd, timeoutMs: 120_000 });
  let report: VerifyJson;
  try {
    report = JSON.parse(r.stdout) as VerifyJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

type RemoteState = { updatedAtUs: number; assets: Array<{ filename: string; bytes: number; sha256: string | null }> } | null;

/**
 * Jobs whose remote record is not the one on disk: the stored `updated_at` differs from
 * job.json's, or a file that the job folder has (outputs, trace) has no remote row of the same
 * size. One batched state query per 64 jobs; meant for polling until convergence.
 */
export async function notMirrored(
  h: Harness,
  jobs: ReadonlyArray<{ id: string; dir: string }>,
  expectAssets: (id: string) => string[],
): Promise<string[]> {
  const behind: string[] = [];
  for (let i = 0; i < jobs.length; i += 64) {
    const batch = jobs.slice(i, i + 64);
    const states = (await h.client.query(getStates, { serviceToken: h.token, jobIds: batch.map((j) => j.id) })) as RemoteState[];
    for (const [k, job] of batch.entries()) {
      const state = states[k];
      let rec: Record<string, unknown>;
      try {
        rec = parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
      } catch {
        behind.push(job.id);
        continue;
      }
      const names = new Set(state?.assets.map((a) => a.filename) ?? []);
      if (!state || state.updatedAtUs !== isoToMicros(String(rec.updated_at)) || !expectAssets(job.id).every((n) => names.has(n)))
        behind.push(job.id);
    }
  }
  return behind;
}

/** Reads and parses a job's job.json (Python JSON). */
export async function readRecord(dir: string): Promise<Record<string, unknown>> {
  return parsePythonJson(await readFile(path.join(dir, "job.json"), "utf8")) as Record<string, unknown>;
}

/** The simulated pipeline's pace (pauses between its stages and writes); never a wait for the daemon. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
