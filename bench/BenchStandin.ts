/**
 * The local Convex stand-in as its own process (`bench/standinMain.ts`: the tests' stand-in
 * server plus direct seeding), so its CPU never counts against the daemon's figures and the two
 * share the machine as a client and a deployment would. Wraps the control API (stats, commits,
 * reset) and the seeding channel.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { CommitRecord, StandinStats } from "../tests/standin/StandinServer.js";
import { cleanEnv, REPO } from "../tests/helpers/runCli.js";
import type { SeedAck, SeedJob, SeedMessage } from "./standinMain.js";

export type { CommitRecord, StandinStats };

export class BenchStandin {
  private seq = 0;
  private readonly acks = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly token: string,
    readonly latencyMs: number,
    private readonly exited: Promise<void>,
  ) {
    child.on("message", (m: SeedAck) => {
      const waiter = this.acks.get(m.seq);
      this.acks.delete(m.seq);
      if (m.type === "seeded") waiter?.resolve();
      else waiter?.reject(new Error(`seeding the stand-in failed: ${m.message}`));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(opts: { token: string; latencyMs?: number }): Promise<BenchStandin> {
    const latencyMs = opts.latencyMs ?? 0;
    const child = spawn(
      process.execPath,
      [
        // BENCH_STANDIN_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=bench/out/prof") profiles the stand-in.
        ...(process.env.BENCH_STANDIN_NODE_ARGS ?? "").split(" ").filter(Boolean),
        "--max-old-space-size=8192",
        "--import",
        "tsx",
        "bench/standinMain.ts",
        "--port",
        "0",
        "--latency-ms",
        String(latencyMs),
      ],
      {
        cwd: REPO,
        env: cleanEnv({ CELSTATE_SYNC_TOKEN: opts.token }),
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        serialization: "advanced", // NaN, Infinity and bytes travel as they are
      },
    );
    let out = "";
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (b: Buffer) => {
        out += b.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          child.stdout!.off("data", onData);
          child.stdout!.resume();
          resolve(m[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`the stand-in exited (${code}) before listening: ${err}`)));
    });
    return new BenchStandin(child, url, opts.token, latencyMs, exited);
  }

  private async control<T>(method: "GET" | "POST", route: string): Promise<T> {
    const res = await fetch(`${this.url}/_standin/${route}`, { method });
    if (!res.ok) throw new Error(`${method} /_standin/${route}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  stats(): Promise<StandinStats> {
    return this.control("GET", "stats");
  }

  commits(sinceMs?: number): Promise<CommitRecord[]> {
    return this.control("GET", sinceMs === undefined ? "commits" : `commits?since=${sinceMs}`);
  }

  /** Commits these jobs directly in the deployment (see standinMain.ts); resolves once applied. */
  seed(jobs: SeedJob[]): Promise<void> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.acks.set(seq, { resolve, reject });
      this.child.send({ type: "seed", seq, jobs } satisfies SeedMessage);
    });
  }

  /** A fresh, empty deployment (data, blobs, counters). */
  async reset(): Promise<void> {
    await this.control("POST", "reset");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** Requests the daemon made, counted by the deployment: every function call and every upload. */
export function countRequests(stats: StandinStats): { total: number; uploads: number; byFunction: Record<string, number> } {
  let total = 0;
  let uploads = 0;
  const byFunction: Record<string, number> = {};
  for (const [key, byStatus] of Object.entries(stats.requests)) {
    const [method, route, fn] = key.split(" ");
    if (method !== "POST" || !route!.startsWith("/api/")) continue;
    const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
    total += n;
    if (route === "/api/storage/upload") uploads += n;
    const name = route === "/api/storage/upload" ? "upload" : fn || route!;
    byFunction[name] = (byFunction[name] ?? 0) + n;
  }
  return { total, uploads, byFunction };
}

/** Mutations that ran, by path: what "zero writes" is checked against. */
export function countMutations(stats: StandinStats): number {
  const writes = [
    "sync:commit",
    "sync:commitMany",
    "jobs:upsert",
    "assets:save",
    "assets:generateUploadUrl",
    "assets:generateUploadUrls",
    "gc:collectNow",
  ];
  return writes.reduce((n, fn) => n + (stats.functionCalls[fn] ?? 0), 0);
}
