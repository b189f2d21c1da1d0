/**
 * Counters of the stand-in: requests by route and outcome, function calls and their errors,
 * uploads, and a bounded ring of successful commits so benchmarks can measure latency from
 * a file change to its commit. Owns only these counters; document and blob counts are read
 * from the database when stats are asked for.
 */

export type CommitRecord = { jobId: string; updatedAt: string; outcome: string; atMs: number };

export type StandinStats = {
  /** `"<METHOD> <route> <function path or ''>"` → HTTP status (or `reset`/`dropped`) → count. */
  requests: Record<string, Record<string, number>>;
  /** Functions actually run (after faults), by path. */
  functionCalls: Record<string, number>;
  /** Function failures by path, then by `ConvexError` code (or `Error`). */
  functionErrors: Record<string, Record<string, number>>;
  documents: { jobs: number; jobAssets: number; jobEvents: number; jobSyncStates: number; syncMeta: number };
  blobs: { count: number; bytes: number };
  uploads: number;
  /** Connections refused before any request was read. */
  refusedConnections: number;
};

export const DEFAULT_COMMIT_RING = 200_000;

export class StatsRecorder {
  private requests = new Map<string, Map<string, number>>();
  private functionCalls = new Map<string, number>();
  private functionErrors = new Map<string, Map<string, number>>();
  private uploads = 0;
  private refusedConnections = 0;
  private ring: CommitRecord[] = [];
  private ringStart = 0;

  constructor(private readonly ringSize = DEFAULT_COMMIT_RING) {}

  request(method: string, route: string, functionPath: string, status: number | string): void {
    const key = `${method} ${route} ${functionPath}`;
    let byStatus = this.requests.get(key);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.requests.set(key, byStatus);
    }
    const s = String(status);
    byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
  }

  functionCall(path: string): void {
    this.functionCalls.set(path, (this.functionCalls.get(path) ?? 0) + 1);
  }

  functionError(path: string, code: string): void {
    let byCode = this.functionErrors.get(path);
    if (byCode === undefined) {
      byCode = new Map();
      this.functionErrors.set(path, byCode);
    }
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  upload(): void {
    this.uploads++;
  }

  refusedConnection(): void {
    this.refusedConnections++;
  }

  commit(record: CommitRecord): void {
    if (this.ring.length < this.ringSize) this.ring.push(record);
    else {
      this.ring[this.ringStart] = record;
      this.ringStart = (this.ringStart + 1) % this.ringSize;
    }
  }

  /** Recorded commits, oldest first; `sinceMs` keeps those at or after it. */
  commits(sinceMs = Number.NEGATIVE_INFINITY): CommitRecord[] {
    const ordered = [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
    return sinceMs === Number.NEGATIVE_INFINITY ? ordered : ordered.filter((c) => c.atMs >= sinceMs);
  }

  snapshot(documents: StandinStats["documents"], blobs: StandinStats["blobs"]): StandinStats {
    const nested = (m: Map<string, Map<string, number>>) => Object.fromEntries([...m].map(([k, inner]) => [k, Object.fromEntries(inner)]));
    return {
      requests: nested(this.requests),
      functionCalls: Object.fromEntries(this.functionCalls),
      functionErrors: nested(this.functionErrors),
      documents,
      blobs,
      uploads: this.uploads,
      refusedConnections: this.refusedConnections,
    };
  }
}
