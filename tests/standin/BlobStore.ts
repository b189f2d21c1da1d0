/**
 * File storage over HTTP for the stand-in: upload tokens, raw-body uploads streamed to a temp
 * file while hashed, and downloads with ranges, under URL keys of our own.
 *
 * Uploads never sit in memory: the body streams to a file in `uploadDir`, and convex-test is
 * handed a file-backed Blob (`fs.openAsBlob`) with the `_storage` row written directly, so
 * convex-test never reads the bytes (its own `storage.store` would, to hash them). Files of
 * deleted blobs are removed by `sweep()`. Owns the upload directory when it created it.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, openAsBlob } from "node:fs";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ConvexEngine } from "./ConvexEngine.js";

export const UPLOAD_URL_TTL_MS = 60 * 60 * 1000;

type StoredFile = { storageId: string; key: string; file: string | undefined };

export type UploadOutcome =
  | { kind: "stored"; storageId: string }
  | { kind: "digestMismatch"; expected: string; actual: string }
  | { kind: "dropped" }
  | { kind: "timedOut" }
  | { kind: "aborted" };

/** The `sha-256` value of a `Digest` header (RFC 3230), or undefined when it has none. */
/**
 * The `Digest` header of an upload, parsed as strictly as the backend does (common/src/
 * sha256.rs): exactly `sha-256=` and the base64 of 32 bytes, else "invalid" (400 BadHeader);
 * undefined when there is none.
 */
export function parseSha256Digest(header: string | undefined): string | "invalid" | undefined {
  if (header === undefined) return undefined;
  if (!header.startsWith("sha-256=")) return "invalid";
  const value = header.slice("sha-256=".length);
  const bytes = Buffer.from(value, "base64");
  return bytes.length === 32 && bytes.toString("base64") === value ? value : "invalid";
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null to serve the whole file; "invalid" → 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | "invalid" {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges are legal but rare: serving the whole file is a valid answer to them.
  if (m === null) return header.includes(",") ? null : "invalid";
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "invalid";
  let start: number;
  let end: number;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "invalid";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return "invalid";
  return { start, end };
}

export class BlobStore {
  private tokenKey = randomBytes(32);
  private byId = new Map<string, StoredFile>();
  private byKey = new Map<string, StoredFile>();

  private constructor(
    private readonly engine: () => ConvexEngine,
    readonly uploadDir: string,
    private readonly ownsDir: boolean,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  static async create(opts: { engine: () => ConvexEngine; uploadDir?: string; ttlMs?: number; now?: () => number }): Promise<BlobStore> {
    const owns = opts.uploadDir === undefined;
    const dir = opts.uploadDir ?? (await mkdtemp(path.join(os.tmpdir(), "celstate-standin-")));
    return new BlobStore(opts.engine, dir, owns, opts.ttlMs ?? UPLOAD_URL_TTL_MS, opts.now ?? Date.now);
  }

  /**
   * A token for one upload URL: valid for the TTL, any number of times (as Convex's). Like the
   * backend's keybroker it carries its own issue time under a MAC, so an expired token is told
   * from a forged one without keeping either.
   */
  issueUploadToken(): string {
    const issued = this.now().toString(36);
    return `${issued}.${this.mac(issued)}`;
  }

  /** "valid", "expired" (401 StorageTokenExpired) or "invalid" (401 StorageTokenInvalid). */
  tokenState(token: string | null): "valid" | "expired" | "invalid" {
    const [issued = "", mac = "", ...rest] = (token ?? "").split(".");
    if (rest.length > 0 || issued === "" || mac !== this.mac(issued)) return "invalid";
    return Number.parseInt(issued, 36) + this.ttlMs > this.now() ? "valid" : "expired";
  }

  private mac(text: string): string {
    return createHmac("sha256", this.tokenKey).update(text).digest("base64url");
  }

  /** The URL key of a stored file; made on first use for files stored by other means. */
  keyFor(storageId: string): string {
    let entry = this.byId.get(storageId);
    if (entry === undefined) {
      entry = { storageId, key: randomUUID(), file: undefined };
      this.byId.set(storageId, entry);
      this.byKey.set(entry.key, entry);
    }
    return entry.key;
  }

  /**
   * Streams an upload body to a temp file while hashing it, checks the digest, then stores
   * it. `dropAfterBytes` destroys the connection once that many bytes arrived (fault);
   * `bytesPerSec` reads no faster than that (fault: a slow link, felt by the client through TCP
   * backpressure).
   */
  async receive(
    req: IncomingMessage,
    opts: {
      contentType: string | undefined;
      expectedSha256: string | undefined;
      dropAfterBytes?: number;
      bytesPerSec?: number;
      timeoutMs?: number;
    },
  ): Promise<UploadOutcome> {
    const started = performance.now();
    // The server's request timeout: the body stops being read, the caller answers 408.
    const abort = new AbortController();
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            abort.abort();
          }, opts.timeoutMs);
    const file = path.join(this.uploadDir, `${randomUUID()}.upload`);
    const hash = createHash("sha256");
    let size = 0;
    let dropped = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (opts.dropAfterBytes !== undefined && size >= opts.dropAfterBytes) {
          dropped = true;
          req.socket.destroy();
          cb(new Error("upload dropped by fault injection"));
          return;
        }
        const aheadMs = opts.bytesPerSec === undefined ? 0 : (size / opts.bytesPerSec) * 1000 - (performance.now() - started);
        if (aheadMs > 0) setTimeout(() => cb(null, chunk), aheadMs);
        else cb(null, chunk);
      },
    });
    if (opts.dropAfterBytes === 0) {
      req.socket.destroy();
      return { kind: "dropped" };
    }
    try {
      await pipeline(req, meter, createWriteStream(file), { signal: abort.signal });
    } catch {
      await unlink(file).catch(() => {});
      return dropped ? { kind: "dropped" } : timedOut ? { kind: "timedOut" } : { kind: "aborted" };
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
    const actual = hash.digest("base64");
    if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== actual) {
      await unlink(file).catch(() => {});
      return { kind: "digestMismatch", expected: opts.expectedSha256, actual };
    }
    const blob = await openAsBlob(file, opts.contentType === undefined ? {} : { type: opts.contentType });
    const storageId = await this.engine().storeBlob(blob, { size, sha256: actual, contentType: opts.contentType });
    const entry: StoredFile = { storageId, key: randomUUID(), file };
    this.byId.set(storageId, entry);
    this.byKey.set(entry.key, entry);
    return { kind: "stored", storageId };
  }

  /** Answers a GET/HEAD of a storage URL key. Returns false when there is no such file (404). */
  serve(key: string, req: IncomingMessage, res: ServerResponse): boolean {
    const entry = this.byKey.get(key);
    if (entry === undefined) return false;
    const meta = this.engine().blobMeta(entry.storageId);
    if (meta === null) return false;
    const blob = entry.file === undefined ? this.engine().blobOf(entry.storageId) : null;
    if (entry.file === undefined && blob === null) return false;
    const headers: Record<string, string | number> = {
      "Content-Type": meta.contentType ?? "application/octet-stream",
      Digest: `sha-256=${meta.sha256}`,
      "Accept-Ranges": "bytes",
    };
    const range = parseRange(req.headers.range, meta.size);
    if (range === "invalid") {
      res.writeHead(416, { "Content-Range": `bytes */${meta.size}`, "Content-Length": 0 });
      res.end();
      return true;
    }
    const { start, end } = range ?? { start: 0, end: meta.size - 1 };
    const length = Math.max(0, end - start + 1);
    if (range !== null) headers["Content-Range"] = `bytes ${start}-${end}/${meta.size}`;
    headers["Content-Length"] = length;
    res.writeHead(range === null ? 200 : 206, headers);
    if (req.method === "HEAD" || length === 0) {
      res.end();
      return true;
    }
    const body =
      entry.file !== undefined
        ? createReadStream(entry.file, { start, end })
        : Readable.fromWeb(blob!.slice(start, end + 1).stream() as import("node:stream/web").ReadableStream);
    body.on("error", () => res.destroy());
    body.pipe(res);
    return true;
  }

  /** Removes the files of deleted blobs and forgets their keys. */
  async sweep(): Promise<number> {
    const engine = this.engine();
    const gone: StoredFile[] = [];
    for (const entry of this.byId.values()) {
      if (engine.blobMeta(entry.storageId) === null) gone.push(entry);
    }
    for (const entry of gone) {
      this.byId.delete(entry.storageId);
      this.byKey.delete(entry.key);
    }
    await Promise.all(gone.map((e) => (e.file === undefined ? undefined : unlink(e.file).catch(() => {}))));
    return gone.length;
  }

  /** Forgets every file and token (after the database was reset). */
  async reset(): Promise<void> {
    const files = [...this.byId.values()].map((e) => e.file).filter((f): f is string => f !== undefined);
    this.byId = new Map();
    this.byKey = new Map();
    this.tokenKey = randomBytes(32); // every token issued before is invalid now
    await Promise.all(files.map((f) => unlink(f).catch(() => {})));
  }

  async close(): Promise<void> {
    await this.reset();
    if (this.ownsDir) await rm(this.uploadDir, { recursive: true, force: true });
  }
}
