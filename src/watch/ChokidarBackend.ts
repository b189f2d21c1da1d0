/**
 * WatcherBackend over chokidar 5. Two watchers: one on the jobs folder alone (depth 0: job
 * folders appearing and disappearing), one holding the active job folders (depth 1: job.json,
 * outputs/*, trace/*). Finished jobs are unwatched by the daemon, so watch cost follows active
 * jobs, not history. studio/, temp files (`tmp*`) and dotfiles are never watched.
 *
 * Events are hints: a new folder's files may be written before its watch exists (chokidar
 * #1112-style races), which is why the daemon reads every new job in full.
 *
 * chokidar drops a `change` that comes within 50 ms of the previous one for the same path
 * (`_throttle('change', path, 50)` in its `_emit`: leading edge, no trailing event), so a
 * second rewrite of job.json in quick succession would go unseen until the periodic rescan.
 * Each `change` is therefore followed by one look after the window: if the file's identity
 * (inode, size, mtime, ctime) moved since the event, a `change` is reported for it.
 */
import { lstatSync } from "node:fs";
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { isIgnoredPath } from "../local/defaultAssetRules.js";
import type { WatchEvent, WatchEventKind, WatcherBackend } from "./WatcherBackend.js";

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(["add", "change", "unlink", "addDir", "unlinkDir"]);

/** Past chokidar's 50 ms `change` throttle, so a change it dropped is seen by the trailing look. */
export const TRAILING_CHANGE_MS = 60;

/** What a change would move: "-" for a path that is gone. Synchronous: taken at the event. */
function identity(p: string): string {
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st === undefined ? "-" : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

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
  /** Per path with a recent `change`: the trailing look's timer and the identity at the event. */
  private readonly trailing = new Map<string, { timer: NodeJS.Timeout; seen: string }>();
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
      this.emit({ kind: kind as WatchEventKind, path: p });
      if (kind === "change") this.armTrailing(p);
    });
    w.on("error", (e: unknown) => {
      for (const l of this.errorListeners) l(e instanceof Error ? e : new Error(String(e)));
    });
    return w;
  }

  private emit(e: WatchEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  private armTrailing(p: string): void {
    const previous = this.trailing.get(p);
    if (previous) clearTimeout(previous.timer);
    const seen = identity(p);
    const timer = setTimeout(() => {
      this.trailing.delete(p);
      if (identity(p) !== seen) this.emit({ kind: "change", path: p });
    }, TRAILING_CHANGE_MS);
    this.trailing.set(p, { timer, seen });
  }

  private clearTrailing(): void {
    for (const { timer } of this.trailing.values()) clearTimeout(timer);
    this.trailing.clear();
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
    this.clearTrailing();
    await this.root?.close();
    await this.jobs?.close();
    this.watched.clear();
    await this.start(this.jobsDir);
    for (const d of dirs) this.watchJob(d);
  }

  async close(): Promise<void> {
    this.clearTrailing();
    await Promise.all([this.root?.close(), this.jobs?.close()]);
    this.root = null;
    this.jobs = null;
    this.watched.clear();
  }
}
