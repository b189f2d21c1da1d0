/**
 * Data and servers that several scenarios share within one benchmark run, made on first use
 * and torn down at the end: the 1,000-job history and a small one, the 50,000 small in-sync jobs with the
 * stand-in that holds them, and a stand-in per added latency.
 */
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { BenchStandin } from "./BenchStandin.js";
import type { BenchSizes } from "./benchSizes.js";
import { seedInSync } from "./seedInSync.js";
import { type WrittenJobs, writeFinishedJobs } from "./writeFinishedJobs.js";
import { writeTinyJobs } from "./writeTinyJobs.js";

export type History = { dir: string; written: WrittenJobs; writeMs: number };

export type TinyHistory = { dir: string; ids: string[]; standin: BenchStandin; writeMs: number; seedMs: number };

export class Fixtures {
  private readonly standins = new Map<number, Promise<BenchStandin>>();
  private readonly dirs: string[] = [];
  private history: Promise<History> | null = null;
  private smallHistory: Promise<History> | null = null;
  private tiny: Promise<TinyHistory> | null = null;

  constructor(
    private readonly workDir: string,
    private readonly sizes: BenchSizes,
    private readonly token: string,
    private readonly log: (line: string) => void,
  ) {}

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(this.workDir, `${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** A stand-in with this added latency, shared; callers reset it before use. */
  standin(latencyMs: number): Promise<BenchStandin> {
    let s = this.standins.get(latencyMs);
    if (s === undefined) {
      s = BenchStandin.start({ token: this.token, latencyMs });
      this.standins.set(latencyMs, s);
    }
    return s;
  }

  /** A fresh stand-in owned by the caller (who stops it). */
  ownStandin(latencyMs = 0): Promise<BenchStandin> {
    return BenchStandin.start({ token: this.token, latencyMs });
  }

  /** The finished-job history of the backfill and no-op scenarios (written once). */
  finishedHistory(): Promise<History> {
    this.history ??= this.writeHistory("history", this.sizes.backfillJobs);
    return this.history;
  }

  /** A small history of the same kind of jobs, in a folder of its own (the small backfill). */
  smallFinishedHistory(): Promise<History> {
    this.smallHistory ??= this.writeHistory("small-history", this.sizes.smallBackfill.jobs);
    return this.smallHistory;
  }

  private async writeHistory(prefix: string, jobs: number): Promise<History> {
    const dir = await this.tempDir(prefix);
    const started = Date.now();
    this.log(`writing ${jobs} finished jobs …`);
    const written = await writeFinishedJobs(dir, jobs);
    return { dir, written, writeMs: Date.now() - started };
  }

  /** The small in-sync jobs and a stand-in (no added latency) that holds them in sync. */
  tinyHistory(): Promise<TinyHistory> {
    this.tiny ??= (async () => {
      const dir = await this.tempDir("at-rest");
      this.log(`writing ${this.sizes.tinyJobs} small finished jobs …`);
      let started = Date.now();
      const ids = writeTinyJobs(dir, this.sizes.tinyJobs);
      const writeMs = Date.now() - started;
      const standin = await this.ownStandin(0);
      this.log(`seeding the stand-in with them …`);
      started = Date.now();
      await seedInSync(standin, dir, ids);
      return { dir, ids, standin, writeMs, seedMs: Date.now() - started };
    })();
    return this.tiny;
  }

  async close(): Promise<void> {
    const standins = [...this.standins.values()];
    if (this.tiny) standins.push(this.tiny.then((t) => t.standin));
    await Promise.all(
      standins.map((p) =>
        p.then(
          (s) => s.stop(),
          () => undefined,
        ),
      ),
    );
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
