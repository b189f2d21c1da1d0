/**
 * An in-memory ConvexGateway for unit tests of the engine: job states kept as `sync:getStates`
 * serves them, commits applied as `sync:commit` (and, job after job, `sync:commitMany`) applies them (monotonic by `updatedAtUs`, asset
 * rows upserted, removals honoured, the resulting state answered), uploads stored by content.
 * Every call is counted by name, and a test can make the next call of a function fail.
 */
import { createHash } from "node:crypto";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { isoToMicros } from "../../convex/lib/time.js";
import type { CommitArgs, CommitResult, ConvexGateway, GatewayStats, RemoteJobState, UploadBody } from "../../src/remote/ConvexGateway.js";

type Name = "handshake" | "getStates" | "generateUploadUrls" | "upload" | "commit" | "commitMany";

export class FakeGateway implements ConvexGateway {
  readonly states = new Map<string, RemoteJobState>();
  readonly blobs = new Map<string, Buffer>();
  readonly calls: Record<Name, number> = {
    handshake: 0,
    getStates: 0,
    generateUploadUrls: 0,
    upload: 0,
    commit: 0,
    commitMany: 0,
  };
  private readonly failures = new Map<Name, unknown>();
  private uploads = 0;
  private bytesUploaded = 0;

  /** The next call of `name` throws `error` (once). */
  failNext(name: Name, error: unknown): void {
    this.failures.set(name, error);
  }

  private call(name: Name): void {
    this.calls[name]++;
    const error = this.failures.get(name);
    if (error !== undefined) {
      this.failures.delete(name);
      throw error;
    }
  }

  async handshake() {
    this.call("handshake");
    return { apiVersion: API_VERSION, serverTimeMs: Date.now() };
  }

  async getStates(jobIds: string[]) {
    this.call("getStates");
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
    return this.apply(args);
  }

  /** Every job's commit, in order; a failure set with `failNext("commitMany")` fails them all. */
  async commitMany(commits: CommitArgs[]): Promise<CommitResult[]> {
    this.call("commitMany");
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

  async getPublic(): Promise<null> {
    return null;
  }

  async getRecord(): Promise<null> {
    return null;
  }

  async timeline() {
    return [];
  }

  async collectGarbage() {
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
