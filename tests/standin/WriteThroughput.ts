/**
 * Convex's write-throughput limit: once mutations wrote more than MAX_BYTES_WRITTEN_PER_SECOND
 * (4 MiB) within the last WRITE_THROUGHPUT_WINDOW (1 s), the next mutation is refused before it
 * runs with 429 `TooManyWrites` (convex-backend `database/src/snapshot_manager.rs`). Off unless
 * configured. Bytes are the stored documents' sizes, as the engine writes them.
 */
export const CONVEX_WRITE_LIMIT = { bytesPerWindow: 4 * 1024 * 1024, windowMs: 1000 };

export type WriteLimit = { bytesPerWindow: number; windowMs: number };

export class WriteThroughput {
  private limit: WriteLimit | null = null;
  private writes: Array<{ atMs: number; bytes: number }> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  configure(limit: WriteLimit | null): void {
    this.limit = limit;
    this.writes = [];
  }

  record(bytes: number): void {
    if (this.limit === null || bytes <= 0) return;
    this.writes.push({ atMs: this.now(), bytes });
  }

  /** Null when a mutation may run, else what Convex answers. */
  refusal(): { code: string; message: string } | null {
    if (this.limit === null) return null;
    const since = this.now() - this.limit.windowMs;
    this.writes = this.writes.filter((w) => w.atMs > since);
    const written = this.writes.reduce((n, w) => n + w.bytes, 0);
    if (written <= this.limit.bytesPerWindow) return null;
    return {
      code: "TooManyWrites",
      message: `Too many writes per second. Your deployment is limited to ${this.limit.bytesPerWindow} bytes written per ${this.limit.windowMs} ms. Reduce your write rate or upgrade to a larger deployment.`,
    };
  }
}
