/**
 * The listener half of a FolderWatcher (`onEvent`, `onError`), shared by the backends: they
 * call `emit` and `reportError`; the daemon, or a backend wrapping another, listens.
 */
import type { WatchEvent } from "./WatcherBackend.js";

export class WatchListeners {
  private readonly eventListeners: Array<(e: WatchEvent) => void> = [];
  private readonly errorListeners: Array<(e: Error) => void> = [];

  onEvent(listener: (e: WatchEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onError(listener: (e: Error) => void): void {
    this.errorListeners.push(listener);
  }

  protected emit(e: WatchEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  /** fs.watch and chokidar may fail with anything: listeners always get an Error. */
  protected reportError(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    for (const l of this.errorListeners) l(err);
  }
}
