/**
 * The boundary between the daemon and the operating system's file events. The daemon decides
 * what an event means; a backend only reports paths. Tests plug in a fake; production uses
 * FolderWatchBackend.
 */
export type WatchEventKind = "add" | "change" | "unlink" | "addDir" | "unlinkDir";

export type WatchEvent = { kind: WatchEventKind; path: string };

export interface WatcherBackend {
  /** Starts watching the jobs folder itself (new and removed job folders); resolves when ready. */
  start(jobsDir: string): Promise<void>;
  /** Watches one job folder (job.json, outputs/, trace/); idempotent. */
  watchJob(jobDir: string): void;
  unwatchJob(jobDir: string): void;
  onEvent(listener: (e: WatchEvent) => void): void;
  onError(listener: (e: Error) => void): void;
  /** Switches to stat polling (after the inotify limit was hit). */
  fallBackToPolling(): Promise<void>;
  readonly polling: boolean;
  close(): Promise<void>;
}
