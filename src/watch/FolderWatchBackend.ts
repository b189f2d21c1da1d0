/**
 * WatcherBackend on `fs.watch`: the jobs folder itself, and each active job folder with its
 * sub-folders (depth 1: job.json, outputs/*, trace/*). Finished jobs are unwatched by the
 * daemon, so watch cost follows active jobs, not history. studio/, temp files (`tmp*`) and
 * dotfiles are never reported. After the inotify limit is hit, everything falls back to
 * chokidar's stat polling.
 *
 * Why not chokidar for the folders it watches natively: on every raw event in a folder,
 * chokidar lists the whole folder again and lstats each entry. For the jobs folder that meant a
 * listing of 50,000 entries per new job in a large history; for an active job, a sixth of the
 * daemon's CPU at 20 jobs/s. chokidar also throttles `change` to one per 50 ms per path (a
 * second rewrite of job.json in quick succession went unseen), and its `unwatch` keeps every
 * path it ever unwatched as an ignore pattern checked on every later event. The daemon needs
 * none of what that work buys: events are hints that mark a job dirty, the kernel's event names
 * the entry, and one lstat says what became of it.
 *
 * Events are hints: a new folder's files may be written before its watch exists, which is why
 * the daemon reads every new job in full, and looks again a moment after a sub-folder appears.
 */
import { type FSWatcher as NodeFsWatcher, lstatSync, readdirSync, watch as fsWatch } from "node:fs";
import path from "node:path";
import type { FSWatcher } from "chokidar";
import { isIgnoredPath } from "../local/defaultAssetRules.js";
import type { WatchEvent, WatchEventKind, WatcherBackend } from "./WatcherBackend.js";

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(["add", "change", "unlink", "addDir", "unlinkDir"]);

/**
 * Polling mode only (chokidar): past chokidar's 50 ms `change` throttle, so a change it dropped
 * is seen by a look after the window.
 */
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

/** fs.watch that reports a failure to `onError` instead of throwing; null if none was made. */
function openWatch(dir: string, onEntry: (name: string | null) => void, onError: (e: unknown) => void): NodeFsWatcher | null {
  try {
    const w = fsWatch(dir, { persistent: true }, (_kind, name) => onEntry(name === null ? null : String(name)));
    w.on("error", onError);
    return w;
  } catch (e) {
    onError(e);
    return null;
  }
}

/** A folder that went away (or never was) is not an error for a watch: events are hints. */
function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EPERM";
}

/**
 * One job folder's watch: the folder, and each sub-folder (outputs/, trace/) while it exists.
 * A sub-folder that appears is watched from then on and reported as `addDir`; one that goes
 * away is closed and reported as `unlinkDir`; anything else is a file, reported as `change`.
 */
class JobFolderWatch {
  private readonly subs = new Map<string, NodeFsWatcher>();
  private readonly top: NodeFsWatcher | null;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly emit: (e: WatchEvent) => void,
    private readonly reportError: (e: unknown) => void,
  ) {
    this.top = openWatch(dir, (name) => this.onEntry(name), (e) => this.onWatchError(e));
    if (this.top === null) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone already: the daemon hears of it from the jobs folder
    }
    for (const e of entries) if (e.isDirectory() && !isIgnoredPath(e.name)) this.watchSub(e.name);
  }

  private onWatchError(e: unknown): void {
    if (!isGone(e)) this.reportError(e);
  }

  private watchSub(name: string): void {
    const sub = path.join(this.dir, name);
    const w = openWatch(
      sub,
      (file) => {
        if (this.closed) return;
        if (file === null) this.emit({ kind: "change", path: sub });
        else if (!isIgnoredPath(`${name}/${file}`)) this.emit({ kind: "change", path: path.join(sub, file) });
      },
      (e) => {
        this.subs.get(name)?.close();
        this.subs.delete(name);
        this.onWatchError(e);
      },
    );
    if (w !== null) this.subs.set(name, w);
  }

  private onEntry(name: string | null): void {
    if (this.closed) return;
    if (name === null || name === "") {
      this.emit({ kind: "change", path: path.join(this.dir, "job.json") }); // the kernel named nothing: a hint all the same
      return;
    }
    if (isIgnoredPath(name)) return;
    const p = path.join(this.dir, name);
    let st;
    try {
      st = lstatSync(p, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      if (this.subs.has(name)) return;
      this.watchSub(name);
      this.emit({ kind: "addDir", path: p });
    } else if (st === undefined && this.subs.has(name)) {
      this.subs.get(name)!.close();
      this.subs.delete(name);
      this.emit({ kind: "unlinkDir", path: p });
    } else {
      this.emit({ kind: st === undefined ? "unlink" : "change", path: p });
    }
  }

  close(): void {
    this.closed = true;
    this.top?.close();
    for (const w of this.subs.values()) w.close();
    this.subs.clear();
  }
}

export class FolderWatchBackend implements WatcherBackend {
  /** The jobs folder: `fs.watch`, or a polling chokidar watcher after the inotify limit was hit. */
  private root: NodeFsWatcher | FSWatcher | null = null;
  private jobsDir = "";
  /** One watch per watched job folder: fs.watch, or a chokidar poller in polling mode. */
  private readonly watched = new Map<string, JobFolderWatch | FSWatcher>();
  private readonly eventListeners: Array<(e: WatchEvent) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];
  /** Per path with a recent `change`: the trailing look's timer and the identity at the event. */
  private readonly trailing = new Map<string, { timer: NodeJS.Timeout; seen: string }>();
  polling = false;
  /** chokidar, loaded only when polling is needed: a daemon that never polls never pays for it. */
  private chokidar: typeof import("chokidar") | null = null;

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
      this.chokidar ??= await import("chokidar");
      const root = this.wire(this.chokidar.watch(jobsDir, this.options(0)));
      this.root = root;
      await new Promise<void>((resolve) => root.once("ready", () => resolve()));
      return;
    }
    // ENOSPC (the inotify limit) or EMFILE: the daemon hears it as a watcher error and falls
    // back to polling, once start has returned.
    this.root = openWatch(jobsDir, (name) => this.onRootEntry(name), (e) => setImmediate(() => this.reportError(e)));
  }

  watchJob(jobDir: string): void {
    if (this.watched.has(jobDir)) return;
    this.watched.set(
      jobDir,
      this.polling && this.chokidar !== null
        ? this.wire(this.chokidar.watch(jobDir, this.options(1)))
        : new JobFolderWatch(jobDir, (e) => this.emit(e), (e) => this.reportError(e)),
    );
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
    this.chokidar ??= await import("chokidar");
    this.polling = true;
    const dirs = [...this.watched.keys()];
    await this.close();
    await this.start(this.jobsDir);
    for (const d of dirs) this.watchJob(d);
  }

  async close(): Promise<void> {
    this.clearTrailing();
    const closing = [...this.watched.values()].map(async (w) => await w.close());
    this.watched.clear();
    const root = this.root;
    this.root = null;
    await Promise.all([root?.close(), ...closing]);
  }
}
