/**
 * WatcherBackend: `fs.watch` on the jobs folder itself, and one chokidar 5 watcher per active
 * job folder (depth 1: job.json, outputs/*, trace/*). Finished jobs are unwatched by the
 * daemon, so watch cost follows active jobs, not history. studio/, temp files (`tmp*`) and
 * dotfiles are never watched.
 *
 * Why not chokidar for the jobs folder too: on every raw event in a folder, chokidar lists the
 * whole folder again and lstats each entry, so with a history of 50,000 job folders each new
 * job cost a listing of 50,000 entries, and chokidar kept its own copy of that listing. The
 * jobs folder needs nothing of that: the kernel's event names the entry, and one lstat says
 * whether a job folder appeared or went away.
 *
 * Why one chokidar watcher per job rather than one for all: chokidar's `unwatch` keeps the
 * path as an "ignored" pattern for good, and every later event is checked against all of
 * them, so a long-running daemon grew slower with every finished job. Closing a job's own
 * watcher leaves nothing behind.
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
import { type FSWatcher as NodeFsWatcher, lstatSync, watch as fsWatch } from "node:fs";
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
  /** The jobs folder: `fs.watch`, or a polling chokidar watcher after the inotify limit was hit. */
  private root: NodeFsWatcher | FSWatcher | null = null;
  private jobsDir = "";
  /** One watcher per watched job folder. */
  private readonly watched = new Map<string, FSWatcher>();
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

  private reportError(e: unknown): void {
    for (const l of this.errorListeners) l(e instanceof Error ? e : new Error(String(e)));
  }

  /** A raw event in the jobs folder names one entry: one lstat tells what became of it. */
  private onRootEntry(name: string | null): void {
    if (name === null || name === "" || name.startsWith(".") || name.startsWith("tmp")) return;
    const p = path.join(this.jobsDir, name);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) this.emit({ kind: "unlinkDir", path: p });
    else if (st.isDirectory()) this.emit({ kind: "addDir", path: p });
  }

  async start(jobsDir: string): Promise<void> {
    this.jobsDir = jobsDir;
    if (this.polling) {
      const root = this.wire(watch(jobsDir, this.options(0)));
      this.root = root;
      await new Promise<void>((resolve) => root.once("ready", () => resolve()));
      return;
    }
    try {
      const root = fsWatch(jobsDir, { persistent: true }, (_kind, name) => this.onRootEntry(name === null ? null : String(name)));
      root.on("error", (e) => this.reportError(e));
      this.root = root;
    } catch (e) {
      // ENOSPC (the inotify limit) or EMFILE: the daemon hears it as a watcher error and falls
      // back to polling, once start has returned.
      setImmediate(() => this.reportError(e));
    }
  }

  watchJob(jobDir: string): void {
    if (this.watched.has(jobDir)) return;
    this.watched.set(jobDir, this.wire(watch(jobDir, this.options(1))));
  }

  unwatchJob(jobDir: string): void {
    const w = this.watched.get(jobDir);
    if (w === undefined) return;
    this.watched.delete(jobDir);
    for (const p of this.trailing.keys()) {
      if (p.startsWith(jobDir + path.sep)) {
        clearTimeout(this.trailing.get(p)!.timer);
        this.trailing.delete(p);
      }
    }
    void w.close();
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
    const dirs = [...this.watched.keys()];
    await this.close();
    await this.start(this.jobsDir);
    for (const d of dirs) this.watchJob(d);
  }

  async close(): Promise<void> {
    this.clearTrailing();
    const closing = [...this.watched.values()].map((w) => w.close());
    this.watched.clear();
    const root = this.root;
    this.root = null;
    await Promise.all([root?.close(), ...closing]);
  }
}
