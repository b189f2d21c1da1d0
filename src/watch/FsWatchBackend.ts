/**
 * FolderWatcher on `fs.watch`: the jobs folder itself, and each watched job folder with its
 * sub-folders (depth 1: job.json, outputs/*, trace/*). It reports the entries the kernel names,
 * after one lstat says what became of each; what an event means is the daemon's to decide.
 * What the daemon says it would drop (`ignored`: dot and tmp folders, studio/, temp files)
 * costs no watch and no lstat. Running out of inotify watches (ENOSPC) or descriptors (EMFILE)
 * is reported as an error; FallbackWatchBackend moves to polling when the daemon says so.
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
import { type Dirent, type FSWatcher, lstatSync, readdirSync, type Stats, watch as fsWatch } from "node:fs";
import path from "node:path";
import type { FolderWatcher, WatchEvent, WatchOptions } from "./WatcherBackend.js";
import { WatchListeners } from "./WatchListeners.js";

type Ignored = (p: string) => boolean;

const NOTHING_IGNORED: Ignored = () => false;

/** fs.watch that reports a failure to `onError` instead of throwing; null if none was made. */
function openWatch(dir: string, onEntry: (name: string | null) => void, onError: (e: unknown) => void): FSWatcher | null {
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
 * away is closed and reported as `unlinkDir`; anything else is a file, reported as `change`
 * (`unlink` once gone).
 */
class JobFolderWatch {
  private readonly subs = new Map<string, FSWatcher>();
  private readonly top: FSWatcher | null;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly ignored: Ignored,
    private readonly emit: (e: WatchEvent) => void,
    private readonly reportError: (e: unknown) => void,
  ) {
    this.top = openWatch(
      dir,
      (name) => this.onEntry(name),
      (e) => this.onWatchError(e),
    );
    if (this.top === null) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone already: the daemon hears of it from the jobs folder
    }
    for (const e of entries) if (e.isDirectory() && !ignored(path.join(dir, e.name))) this.watchSub(e.name);
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
        const p = file === null ? sub : path.join(sub, file);
        if (!this.ignored(p)) this.emit({ kind: "change", path: p });
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
    const p = path.join(this.dir, name);
    if (this.ignored(p)) return;
    let st: Stats | undefined;
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

export class FsWatchBackend extends WatchListeners implements FolderWatcher {
  private root: FSWatcher | null = null;
  private jobsDir = "";
  private ignored: Ignored = NOTHING_IGNORED;
  private readonly watched = new Map<string, JobFolderWatch>();
  private closed = false;

  /** A raw event in the jobs folder names one entry: one lstat tells what became of it. */
  private onRootEntry(name: string | null): void {
    if (name === null || name === "") return;
    const p = path.join(this.jobsDir, name);
    if (this.ignored(p)) return;
    const st = lstatSync(p, { throwIfNoEntry: false });
    // Gone: whether it was a folder cannot be told any more, and a removal is all there is to say.
    if (st === undefined) this.emit({ kind: "unlinkDir", path: p });
    else this.emit({ kind: st.isDirectory() ? "addDir" : "change", path: p });
  }

  start(jobsDir: string, options: WatchOptions = {}): Promise<void> {
    this.jobsDir = jobsDir;
    this.ignored = options.ignored ?? NOTHING_IGNORED;
    // ENOSPC (the inotify limit) or EMFILE is reported once start has returned: the daemon,
    // listening by then, falls back to polling.
    this.root = openWatch(
      jobsDir,
      (name) => this.onRootEntry(name),
      (e) => setImmediate(() => this.reportError(e)),
    );
    return Promise.resolve();
  }

  watchJob(jobDir: string): void {
    if (this.closed || this.watched.has(jobDir)) return;
    this.watched.set(
      jobDir,
      new JobFolderWatch(
        jobDir,
        this.ignored,
        (e) => this.emit(e),
        (e) => this.reportError(e),
      ),
    );
  }

  unwatchJob(jobDir: string): void {
    this.watched.get(jobDir)?.close();
    this.watched.delete(jobDir);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const w of this.watched.values()) w.close();
    this.watched.clear();
    this.root?.close();
    this.root = null;
    return Promise.resolve();
  }
}
