/**
 * A WatcherBackend for daemon tests: it watches nothing. The test says what the OS would have
 * reported (`emit`, `emitError`) and reads what the daemon asked of it (`watched`, `options`,
 * `polling`, `closed`).
 */
import type { WatchEvent, WatcherBackend, WatchOptions } from "../../src/watch/WatcherBackend.js";
import { WatchListeners } from "../../src/watch/WatchListeners.js";

export class FakeWatcherBackend extends WatchListeners implements WatcherBackend {
  polling = false;
  closed = false;
  readonly watched = new Set<string>();
  /** What the daemon passed to `start` (its `ignored` rule); null before it started. */
  options: WatchOptions | null = null;

  async start(_jobsDir: string, options: WatchOptions = {}): Promise<void> {
    this.options = options;
  }

  watchJob(jobDir: string): void {
    this.watched.add(jobDir);
  }

  unwatchJob(jobDir: string): void {
    this.watched.delete(jobDir);
  }

  async fallBackToPolling(): Promise<void> {
    this.polling = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Reports `e` as the OS would have. */
  override emit(e: WatchEvent): void {
    super.emit(e);
  }

  emitError(e: Error): void {
    this.reportError(e);
  }
}
