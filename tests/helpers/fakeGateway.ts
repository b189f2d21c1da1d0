/**
 * An in-memory ConvexGateway for unit tests of the engine: job states kept as `sync:getStates`
 * serves them, commits applied as `sync:commit` applies them (monotonic by `updatedAtUs`, asset
 * rows upserted, removals honoured, the resulting state answered) and `sync:commitMany` as its
 * jobs' commits one after the other, uploads stored by content, public records answered from
 * `publicJobs`. Every call is counted by name (and every state query's ids kept), and a test can
 * make the next calls of a function fail, fail or hold a commit by its arguments (a batch fails
 * whole when any of its jobs does, as one transaction does), set what the handshake says, or cap
 * how many ids one state query may ask for.
 */
import { createHash } from "node:crypto";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { isoToMicros } from "../../convex/lib/time.js";
import type {
  CommitArgs,
  CommitResult,
  ConvexGateway,
  GatewayStats,
  PublicJob,
  RemoteJobState,
  UploadBody,
} from "../../src/remote/ConvexGateway.js";

type Name = Exclude<keyof ConvexGateway, "stats">;

/** What Convex answers a read over its limits (`sync:getStates` for too many jobs at once). */
export const READ_TOO_LARGE = "[Request ID: 1] Server Error: Too many bytes read in a single function execution";

export class FakeGateway implements ConvexGateway {
  readonly states = new Map<string, RemoteJobState>();
  readonly publicJobs = new Map<string, PublicJob>();
  readonly blobs = new Map<string, Buffer>();
  readonly calls: Record<Name, number> = {
    handshake: 0,
    getStates: 0,
    generateUploadUrls: 0,
    upload: 0,
    commit: 0,
    getPublic: 0,
    getRecord: 0,
    timeline: 0,
    collectGarbage: 0,
    commitMany: 0,
  };
  /** The ids of every `getStates` call, in order. */
  readonly stateQueries: string[][] = [];
  /** What the handshake reports: the API version, and how far the deployment's clock is ahead. */
  apiVersion = API_VERSION;
  clockAheadMs = 0;
  /** Runs before each commit is applied (awaited): throw to fail that commit, hold it to delay it. */
  beforeCommit: (args: CommitArgs) => Promise<void> | void = () => {};
  /** A state query for more ids than this is refused as Convex refuses a read over its limits. */
  maxStatesPerQuery = Number.POSITIVE_INFINITY;
  private readonly failures = new Map<Name, { error: unknown; left: number }>();
  private uploads = 0;
  private bytesUploaded = 0;

  /** The next call of `name` throws `error` (or the next `times` calls; Infinity: every call). */
  failNext(name: Name, error: unknown, times = 1): void {
    this.failures.set(name, { error, left: times });
  }

  private call(name: Name): void {
    this.calls[name]++;
    const failure = this.failures.get(name);
    if (failure !== undefined) {
      if (--failure.left <= 0) this.failures.delete(name);
      throw failure.error;
    }
  }

  async handshake() {
    this.call("handshake");
    return { apiVersion: this.apiVersion, serverTimeMs: Date.now() + this.clockAheadMs };
  }

  async getStates(jobIds: string[]) {
    this.stateQueries.push([...jobIds]);
    this.call("getStates");
    if (jobIds.length > this.maxStatesPerQuery) throw new Error(READ_TOO_LARGE);
    return jobIds.map((id) => this.states.get(id) ?? null);
  }

  async generateUploadUrls(count: number) {
    this.call("generateUploadUrls");
    return Array.from({ length: count }, (_, i) => `fake://upload/${i}`);
  }

  async upload(_url: string, body: UploadBody): Promise<string> {
    this.call("upload");
    const bytes = body.data !== undefined ? Buffer.from(body.data) : await readAll(await body.open());
    if (createHash("sha256").update(bytes).digest("hex") !== body.sha256Hex)
      throw new Error(`fake upload: ${body.file} does not hash to its digest`);
    const storageId = `blob-${this.blobs.size + 1}`;
    this.blobs.set(storageId, bytes);
    this.uploads++;
    this.bytesUploaded += bytes.length;
    return storageId;
  }

  async commit(args: CommitArgs): Promise<CommitResult> {
    this.call("commit");
    await this.beforeCommit(args);
    return this.apply(args);
  }

  /** Every job's commit, in order; a failure set with `failNext("commitMany")`, or thrown by `beforeCommit` for any job, fails them all. */
  async commitMany(commits: CommitArgs[]): Promise<CommitResult[]> {
    this.call("commitMany");
    for (const c of commits) await this.beforeCommit(c);
    return commits.map((c) => this.apply(c));
  }

  private apply(args: CommitArgs): CommitResult {
    const jobId = args.job.jobId;
    const before = this.states.get(jobId) ?? null;
    const version = isoToMicros(args.job.updatedAtIso) ?? 0;
    if (before !== null && before.updatedAtUs > version) return { outcome: "stale", assetsChanged: 0, assetsRemoved: 0, state: before };
    const rows = new Map((before?.assets ?? []).map((a) => [a.filename, a]));
    for (const name of args.removeFilenames ?? []) rows.delete(name);
    for (const a of args.assets) rows.set(a.filename, { ...a, sha256: a.sha256 ?? null, sourceMtimeMs: a.sourceMtimeMs ?? null });
    const state: RemoteJobState = {
      jobId,
      updatedAtUs: version,
      recordHash: args.recordHash,
      sourceHash: args.sourceHash ?? null,
      status: args.job.status,
      assets: [...rows.values()],
    };
    this.states.set(jobId, state);
    const outcome =
      before === null ? "created" : before.recordHash === args.recordHash && before.updatedAtUs === version ? "unchanged" : "updated";
    return { outcome, assetsChanged: args.assets.length, assetsRemoved: (args.removeFilenames ?? []).length, state };
  }

  async getPublic(jobId: string): Promise<PublicJob | null> {
    this.call("getPublic");
    return this.publicJobs.get(jobId) ?? null;
  }

  async getRecord(): Promise<null> {
    this.call("getRecord");
    return null;
  }

  async timeline() {
    this.call("timeline");
    return [];
  }

  async collectGarbage() {
    this.call("collectGarbage");
    return { scanned: 0, deleted: 0, more: false };
  }

  stats(): GatewayStats {
    const byFunction = Object.fromEntries(Object.entries(this.calls).filter(([, n]) => n > 0));
    return {
      requests: Object.values(this.calls).reduce((a, b) => a + b, 0),
      byFunction,
      uploads: this.uploads,
      bytesUploaded: this.bytesUploaded,
    };
  }
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}
