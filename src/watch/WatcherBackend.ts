/**
 * The boundary between the daemon and the operating system's file events. A backend reports
 * the paths the OS names, raw; the daemon alone decides what an event means (jobIdOfPath), and
 * hands the backends the same rule as `ignored` so that they spend no watch and no stat on
 * what it would drop. Production uses FallbackWatchBackend (fs.watch, stat polling past the
 * inotify limit); tests plug in a fake (tests/helpers/fakeWatcherBackend.ts).
 */
export type WatchEventKind = "add" | "change" | "unlink" | "addDir" | "unlinkDir";

export type WatchEvent = { kind: WatchEventKind; path: string };

export type WatchOptions = {
  /**
   * True for a path inside the jobs folder (never asked of the folder itself) whose events the
   * daemon drops: a backend need not watch, stat nor report it. Default: nothing is ignored.
   */
  ignored?: (path: string) => boolean;
};

/** One way of watching: the jobs folder, and the job folders the daemon names. One start, one close. */
export interface FolderWatcher {
  /** Starts watching the jobs folder itself (new and removed job folders); resolves when ready. */
  start(jobsDir: string, options?: WatchOptions): Promise<void>;
  /** Watches one job folder (job.json, outputs/, trace/); idempotent. */
  watchJob(jobDir: string): void;
  unwatchJob(jobDir: string): void;
  onEvent(listener: (e: WatchEvent) => void): void;
  onError(listener: (e: Error) => void): void;
  close(): Promise<void>;
}

/** What the daemon holds: a FolderWatcher it can switch to stat polling. */
export interface WatcherBackend extends FolderWatcher {
  /** Switches to stat polling (the daemon says when: after the inotify limit was hit). */
  fallBackToPolling(): Promise<void>;
  readonly polling: boolean;
}
