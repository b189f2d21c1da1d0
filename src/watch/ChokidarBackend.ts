/**
 * WatcherBackend over chokidar 5. Two watchers: one on the jobs folder alone (depth 0: job
 * folders appearing and disappearing), one holding the active job folders (depth 1: job.json,
 * outputs/*, trace/*). Finished jobs are unwatched by the daemon, so watch cost follows active
 * jobs, not history. studio/, temp files (`tmp*`) and dotfiles are never watched.
 *
 * Events are hints: a new folder's files may be written before its watch exists (chokidar
 * #1112-style races), which is why the daemon reads every new job in full.
 */
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { isIgnoredPath } from "../local/defaultAssetRules.js";
import type { WatchEvent, WatchEventKind, WatcherBackend } from "./WatcherBackend.js";

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(["add", "change", "unlink", "addDir", "unlinkDir"]);

/** The jobs-folder view of `isIgnoredPath`: dot/tmp job folders, then the job-relative rules. */
export function ignoredJobPath(jobsDir: string, p: string): boolean {
  const rel = path.relative(jobsDir, p);
  if (rel === "" || rel.startsWith("..")) return false;
  const [jobId = "", ...inside] = rel.split(path.sep);
  if (jobId.startsWith(".") || jobId.startsWith("tmp")) return true;
  return isIgnoredPath(inside.join("/"));
}

export class ChokidarBackend implements WatcherBackend {
  private root: FSWatcher | null = null;
  private jobs: FSWatcher | null = null;
  private jobsDir = "";
  private readonly watched = new Set<string>();
  private readonly eventListeners: Array<(e: WatchEvent) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];
  polling = false;

  constructor(private readonly pollIntervalMs = 1000) {}

  private options(depth: number) {
    return {
      ignoreInitial: true,
      depth,
      // The pipeline replaces job.json by rename: we want that event now, not after chokidar's
      // 100 ms "atomic write" window (an unlink+add pair is fine: events only mark jobs dirty).
      atomic: false,
      followSymlinks: false,
      ignored: (p: string) => ignoredJobPath(this.jobsDir, p),
      usePolling: this.polling,
      interval: this.pollIntervalMs,
      binaryInterval: this.pollIntervalMs,
    };
  }

  private wire(w: FSWatcher): FSWatcher {
    w.on("all", (kind: string, p: string) => {
      if (!KINDS.has(kind)) return;
      for (const l of this.eventListeners) l({ kind: kind as WatchEventKind, path: p });
    });
    w.on("error", (e: unknown) => {
      for (const l of this.errorListeners) l(e instanceof Error ? e : new Error(String(e)));
    });
    return w;
  }

  async start(jobsDir: string): Promise<void> {
    this.jobsDir = jobsDir;
    this.root = this.wire(watch(jobsDir, this.options(0)));
    this.jobs = this.wire(watch([], this.options(1)));
    await new Promise<void>((resolve) => this.root!.once("ready", () => resolve()));
  }

  watchJob(jobDir: string): void {
    if (this.watched.has(jobDir) || !this.jobs) return;
    this.watched.add(jobDir);
    this.jobs.add(jobDir);
  }

  unwatchJob(jobDir: string): void {
    if (!this.watched.delete(jobDir) || !this.jobs) return;
    this.jobs.unwatch(jobDir);
  }

  onEvent(listener: (e: WatchEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.push(listener);
  }

  async fallBackToPolling(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const dirs = [...this.watched];
    await this.root?.close();
    await this.jobs?.close();
    this.watched.clear();
    await this.start(this.jobsDir);
    for (const d of dirs) this.watchJob(d);
  }

  async close(): Promise<void> {
    await Promise.all([this.root?.close(), this.jobs?.close()]);
    this.root = null;
    this.jobs = null;
    this.watched.clear();
  }
}
