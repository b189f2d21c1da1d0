/**
 * The daemon's WatcherBackend: FsWatchBackend, until the daemon says the OS ran out of watches
 * (ENOSPC, EMFILE: `fallBackToPolling`), then PollingWatchBackend for the rest of its life; or
 * PollingWatchBackend from the start, when the configuration says so (`watch.polling`). It
 * keeps the job folders the daemon asked for, so that the poller takes over every one of them,
 * and passes both backends' raw events and errors through unchanged.
 */
import { FsWatchBackend } from "./FsWatchBackend.js";
import { PollingWatchBackend } from "./PollingWatchBackend.js";
import type { FolderWatcher, WatcherBackend, WatchOptions } from "./WatcherBackend.js";
import { WatchListeners } from "./WatchListeners.js";
import { POLL_INTERVAL_MS } from "../timing.js";

export class FallbackWatchBackend extends WatchListeners implements WatcherBackend {
  private current: FolderWatcher;
  /** The job folders the daemon asked for: handed to the poller when it takes over. */
  private readonly jobDirs = new Set<string>();
  private jobsDir = "";
  private options: WatchOptions = {};
  /** False while the poller starts: job folders are only noted, and watched once it is ready. */
  private live = true;
  private closed = false;
  polling = false;

  /** `polling`: poll from the start (`watch.polling`: a file system inotify does not cover). */
  constructor(
    private readonly pollIntervalMs = POLL_INTERVAL_MS,
    opts: { polling?: boolean } = {},
  ) {
    super();
    this.polling = opts.polling === true;
    this.current = this.passThrough(this.polling ? new PollingWatchBackend(pollIntervalMs) : new FsWatchBackend());
  }

  private passThrough(w: FolderWatcher): FolderWatcher {
    w.onEvent((e) => this.emit(e));
    w.onError((e) => this.reportError(e));
    return w;
  }

  start(jobsDir: string, options: WatchOptions = {}): Promise<void> {
    this.jobsDir = jobsDir;
    this.options = options;
    return this.current.start(jobsDir, options);
  }

  watchJob(jobDir: string): void {
    this.jobDirs.add(jobDir);
    if (this.live) this.current.watchJob(jobDir);
  }

  unwatchJob(jobDir: string): void {
    this.jobDirs.delete(jobDir);
    if (this.live) this.current.unwatchJob(jobDir);
  }

  async fallBackToPolling(): Promise<void> {
    if (this.polling || this.closed) return;
    // Said at once: the errors of every other watch that failed meanwhile switch nothing more.
    this.polling = true;
    this.live = false;
    const previous = this.current;
    this.current = this.passThrough(new PollingWatchBackend(this.pollIntervalMs));
    await previous.close();
    await this.current.start(this.jobsDir, this.options);
    if (this.closed) return;
    this.live = true;
    for (const d of this.jobDirs) this.current.watchJob(d);
  }

  /** Also ends a switch under way: the poller, closed before it was ready, watches nothing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.current.close();
  }
}
