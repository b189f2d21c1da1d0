/**
 * FolderWatcher on chokidar's stat polling: what is left once fs.watch can get no more inotify
 * watches (ENOSPC) or descriptors (EMFILE). The jobs folder is polled at depth 0, each watched
 * job folder at depth 1 (job.json, outputs/*, trace/*), every `intervalMs`. It reports
 * chokidar's events as they come; what `ignored` names is neither polled nor reported.
 *
 * chokidar drops a `change` that comes within 50 ms of the previous one for the same path (a
 * leading-edge throttle with no trailing event): a second rewrite of job.json in quick
 * succession would go unseen until the next change or the rescan. So every `change` arms a
 * trailing look TRAILING_CHANGE_MS later, which reports the path again if it moved since.
 *
 * chokidar is loaded by `start`: a daemon that never polls never pays for it.
 */
import { lstatSync } from "node:fs";
import path from "node:path";
import type { FSWatcher } from "chokidar";
import type { FolderWatcher, WatchEventKind, WatchOptions } from "./WatcherBackend.js";
import { WatchListeners } from "./WatchListeners.js";
import { POLL_INTERVAL_MS, TRAILING_CHANGE_MS } from "../timing.js";

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(["add", "change", "unlink", "addDir", "unlinkDir"]);

/** What a change would move: "-" for a path that is gone. Synchronous: taken at the event. */
function identity(p: string): string {
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st === undefined ? "-" : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class PollingWatchBackend extends WatchListeners implements FolderWatcher {
  private chokidar: typeof import("chokidar") | null = null;
  private root: FSWatcher | null = null;
  private jobsDir = "";
  private ignored: (p: string) => boolean = () => false;
  private readonly watched = new Map<string, FSWatcher>();
  /** Per path with a recent `change`: the trailing look's timer and the identity at the event. */
  private readonly trailing = new Map<string, { timer: NodeJS.Timeout; seen: string }>();
  private closed = false;
  /** Ends `start`'s wait for `ready`: chokidar drops its listeners on close, `ready` included. */
  private endStart: (() => void) | null = null;

  constructor(private readonly intervalMs = POLL_INTERVAL_MS) {
    super();
  }

  private options(depth: number) {
    return {
      ignoreInitial: true,
      depth,
      // The pipeline replaces job.json by rename: we want that event now, not after chokidar's
      // 100 ms "atomic write" window (an unlink+add pair is fine: events only mark jobs dirty).
      atomic: false,
      followSymlinks: false,
      // chokidar asks about the jobs folder too, which `ignored` is never asked about.
      ignored: (p: string) => path.relative(this.jobsDir, p) !== "" && this.ignored(p),
      usePolling: true,
      interval: this.intervalMs,
      binaryInterval: this.intervalMs,
    };
  }

  private wire(w: FSWatcher): FSWatcher {
    w.on("all", (kind: string, p: string) => {
      if (!KINDS.has(kind)) return;
      this.emit({ kind: kind as WatchEventKind, path: p });
      if (kind === "change") this.armTrailing(p);
    });
    w.on("error", (e: unknown) => this.reportError(e));
    return w;
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

  async start(jobsDir: string, options: WatchOptions = {}): Promise<void> {
    this.jobsDir = jobsDir;
    if (options.ignored) this.ignored = options.ignored;
    const chokidar = await import("chokidar");
    if (this.closed) return;
    this.chokidar = chokidar;
    const root = this.wire(chokidar.watch(jobsDir, this.options(0)));
    this.root = root;
    await new Promise<void>((resolve) => {
      this.endStart = resolve;
      root.once("ready", () => resolve());
    });
    this.endStart = null;
  }

  watchJob(jobDir: string): void {
    if (this.closed || this.watched.has(jobDir)) return;
    if (this.chokidar === null) throw new Error(`PollingWatchBackend: watchJob(${jobDir}) before start`);
    this.watched.set(jobDir, this.wire(this.chokidar.watch(jobDir, this.options(1))));
  }

  unwatchJob(jobDir: string): void {
    const w = this.watched.get(jobDir);
    if (w === undefined) return;
    this.watched.delete(jobDir);
    for (const [p, { timer }] of this.trailing) {
      if (!p.startsWith(jobDir + path.sep)) continue;
      clearTimeout(timer);
      this.trailing.delete(p);
    }
    void w.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.endStart?.();
    for (const { timer } of this.trailing.values()) clearTimeout(timer);
    this.trailing.clear();
    const closing = [...this.watched.values(), ...(this.root ? [this.root] : [])].map((w) => w.close());
    this.watched.clear();
    this.root = null;
    await Promise.all(closing);
  }
}
