/**
 * Convex's query-result cache, as far as a client can tell: a query called again with the same
 * arguments is answered from the cache, even if it read `Date.now()` (for up to `maxAgeMs`;
 * about 17 s in Convex, whose cache also keeps a time-dependent result that long). Convex drops
 * an entry when a write touches what the query read; the stand-in, which does not track read
 * sets, drops every entry at any write: never staler than Convex, sometimes fresher.
 * Off unless configured.
 */
export class QueryCache {
  private maxAgeMs: number | null = null;
  private readonly entries = new Map<string, { atMs: number; value: unknown }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  configure(maxAgeMs: number | null): void {
    this.maxAgeMs = maxAgeMs;
    this.entries.clear();
  }

  private static key(path: string, args: unknown): string {
    return `${path}\0${JSON.stringify(args ?? null)}`;
  }

  get(path: string, args: unknown): { value: unknown } | null {
    if (this.maxAgeMs === null) return null;
    const key = QueryCache.key(path, args);
    const e = this.entries.get(key);
    if (e === undefined) return null;
    if (this.now() - e.atMs > this.maxAgeMs) {
      this.entries.delete(key);
      return null;
    }
    return { value: e.value };
  }

  put(path: string, args: unknown, value: unknown): void {
    if (this.maxAgeMs === null) return;
    this.entries.set(QueryCache.key(path, args), { atMs: this.now(), value });
  }

  /** Something was written. */
  invalidate(): void {
    this.entries.clear();
  }
}
