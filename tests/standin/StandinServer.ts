/**
 * The local Convex stand-in: an HTTP server speaking the deployment wire protocol the official
 * `convex` client uses (`/api/query|mutation|action`, upload and storage URLs), running the
 * project's own `convex/` functions in convex-test, with fault injection, counters and a ring
 * of commits for benchmarks. See README.md beside this file for the control API and for where
 * it differs from Convex.
 *
 * Owns the HTTP layer only: routing, bodies, status codes, faults, URL rewriting. Function
 * semantics live in ConvexEngine, files in BlobStore, counters in StatsRecorder.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { JSONValue } from "convex/values";
import { BlobStore, parseSha256Digest } from "./BlobStore.js";
import { ConvexEngine, type FunctionKind } from "./ConvexEngine.js";
import { CONVEX_LIMITS } from "./convexLimits.js";
import { microsToIso } from "../../convex/lib/time.js";
import { type ConcurrencyLimit, ConcurrencyLimiter } from "./ConcurrencyLimiter.js";
import { loadConvexComponents } from "./convexComponents.js";
import { QueryCache } from "./QueryCache.js";
import { type WriteLimit, WriteThroughput } from "./WriteThroughput.js";
import { loadConvexModules } from "./convexModules.js";
import {
  type FaultDecision,
  FaultInjector,
  faultSpecSchema,
  type FaultSpec,
  type RequestKind,
  type TerminalFault,
} from "./FaultInjector.js";
import { StatsRecorder, type CommitRecord, type StandinStats } from "./StatsRecorder.js";

export type { FaultSpec } from "./FaultInjector.js";
export type { CommitRecord, StandinStats } from "./StatsRecorder.js";

export type StartStandinOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: "127.0.0.1";
  /** Sets `process.env.CELSTATE_SYNC_TOKEN` for the functions; by default the env is left as is. */
  token?: string;
  /** Where upload bodies are kept; default a fresh temp folder, removed by `stop()`. */
  uploadDir?: string;
  /** Constant latency added to every /api request (the CLI's `--latency-ms`). */
  latencyMs?: number;
  /** How long an upload URL stays valid; default 1 hour, as Convex's. */
  uploadUrlTtlMs?: number;
  /** How many commits `/_standin/commits` keeps; default 200,000. */
  commitRingSize?: number;
  /** Functions running at once, per kind, and how long a call waits for a slot (off by default; Convex: 16 and 5 s). */
  functionConcurrency?: ConcurrencyLimit;
  /** Bytes mutations may write per window before the next is refused (off by default; Convex: 4 MiB per 1 s). */
  writeLimit?: WriteLimit;
  /** Serve a query again from its cached result for up to this long, until a mutation commits (off by default; Convex: ~17 s). */
  queryCacheMs?: number;
  /** An upload taking longer is answered 408 (off by default; Convex documents 2 minutes, the open-source server 300 s). */
  uploadRequestTimeoutMs?: number;
};

export type Standin = {
  /** `http://127.0.0.1:<port>`: pass it to `new ConvexHttpClient(url)`. */
  url: string;
  port: number;
  stop(): Promise<void>;
  stats(): StandinStats;
  /** Jobs committed by successful `sync:commit` / `sync:commitMany` / `jobs:upsert` calls, oldest first. */
  commits(sinceMs?: number): CommitRecord[];
  /** Adds fault specs (several may be active at once). */
  setFaults(f: FaultSpec | FaultSpec[]): void;
  /** Sets (or with null lifts) the limit on functions running at once. */
  setFunctionConcurrency(limit: ConcurrencyLimit | null): void;
  /** Sets (or lifts) the write-throughput limit. */
  setWriteLimit(limit: WriteLimit | null): void;
  /** Turns the query-result cache on (max age in ms) or off (null). */
  setQueryCache(maxAgeMs: number | null): void;
  clearFaults(): void;
  /** Clears data, blobs, stats and faults. */
  reset(): Promise<void>;
  /** Runs the internal `gc:collect` with this grace period, then removes the deleted files. */
  runGc(graceMs: number): Promise<{ scanned: number; deleted: number; more: boolean }>;
  /** The engine (its `convex` is the convex-test instance) for tests that seed data directly. */
  readonly engine: ConvexEngine;
};

/** Where convex-test's fake storage URLs start; rewritten to the stand-in's own origin. */
const FAKE_STORAGE_PREFIX = "https://some-deployment.convex.cloud/api/storage/";
const FAKE_URL_IN_TEXT = /https:\/\/some-deployment\.convex\.cloud\/api\/storage\/([^"\\\s]*)/g;

const FUNCTION_ROUTES: Record<string, FunctionKind> = {
  "/api/query": "query",
  "/api/mutation": "mutation",
  "/api/action": "action",
  "/api/function": "any",
};

/** `GET /_standin/export?table=`: a table name (the schema's, or a system table such as `_storage`). */
const EXPORTABLE_TABLE = /^_?[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** convex-backend `errors::OCC_ERROR_MSG`. */
const OCC_MESSAGE =
  "Data read or written in this mutation changed while it was being run. Consider reducing the amount of data read by using indexed queries with selective index range expressions (https://docs.convex.dev/database/indexes/).";
const STATUS_FAULT_CODES = { 500: "InternalServerError", 503: "Overloaded", 429: "TooManyConcurrentRequests" };

/** Reads a body, keeping at most `limit` bytes; null when it was longer (the rest is drained). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= limit) chunks.push(chunk);
  }
  return total > limit ? null : Buffer.concat(chunks, total);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

type CommittedJob = { job: { jobId: string; updatedAt?: number; updatedAtIso?: string }; outcome: string };

/** The jobs a successful commit wrote, each with its outcome: one for `sync:commit` and `jobs:upsert`, each of a batch's. */
function committedJobs(fn: string, args: unknown, result: unknown): CommittedJob[] {
  const a = args as Record<string, unknown>;
  const outcomeOf = (r: unknown) => (r as { outcome?: string } | null)?.outcome ?? "";
  if (fn === "sync:commit") return [{ job: a.job as CommittedJob["job"], outcome: outcomeOf(result) }];
  if (fn === "jobs:upsert") return [{ job: a as CommittedJob["job"], outcome: outcomeOf(result) }];
  if (fn === "sync:commitMany") {
    const results = result as unknown[];
    return (a.commits as Array<{ job: CommittedJob["job"] }>).map((c, k) => ({ job: c.job, outcome: outcomeOf(results[k]) }));
  }
  return [];
}

function canonicalPath(path: string): string {
  const [mod = "", name] = path.split(":", 2);
  const m = mod.replace(/\.js$/, "");
  return name === undefined ? m : `${m}:${name}`;
}

class StandinServer {
  private readonly server: http.Server;
  private readonly faults = new FaultInjector(() => performance.now());
  private stats: StatsRecorder;
  private port = 0;
  private listening = false;
  private stopped = false;
  private outageTimer: NodeJS.Timeout | null = null;
  private uploadsSinceSweep = 0;
  private readonly concurrency = new ConcurrencyLimiter();
  private readonly writes = new WriteThroughput();
  private readonly queryCache = new QueryCache();

  constructor(
    readonly engine: ConvexEngine,
    private readonly blobs: BlobStore,
    private readonly opts: StartStandinOptions,
  ) {
    this.stats = new StatsRecorder(opts.commitRingSize);
    this.concurrency.configure(opts.functionConcurrency ?? null);
    this.writes.configure(opts.writeLimit ?? null);
    this.queryCache.configure(opts.queryCacheMs ?? null);
    // Any write (a mutation's, a scheduled function's, a test seeding data) may change what a
    // cached query read.
    engine.onWrite = (bytes) => {
      this.writes.record(bytes);
      this.queryCache.invalidate();
    };
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => this.internalError(res, err));
    });
    // Longer than undici's 4 s client keep-alive: the client always drops an idle connection
    // first, so it never reuses one the server is closing (an ECONNRESET that a busy process,
    // with client and stand-in on one event loop, otherwise hits after a long synchronous task).
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.on("connection", (socket) => {
      if (this.faults.refuseConnection()) {
        this.stats.refusedConnection();
        socket.destroy();
      }
    });
  }

  get host(): string {
    return this.opts.host ?? "127.0.0.1";
  }

  get origin(): string {
    return `http://${this.host}:${this.port}`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, this.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  // ---- faults -------------------------------------------------------------------------

  setFaults(specs: FaultSpec[]): void {
    for (const s of specs) this.faults.add(faultSpecSchema.parse(s));
    const until = this.faults.takeListenerOutage();
    if (until !== null) this.startOutage(until);
  }

  clearFaults(): void {
    this.faults.clear();
    if (this.outageTimer !== null) {
      clearTimeout(this.outageTimer);
      this.outageTimer = null;
      void this.endOutage();
    }
  }

  /** Refusal for a duration: the port really stops accepting (ECONNREFUSED), then reopens. */
  private startOutage(until: number): void {
    if (!this.listening || this.stopped) return;
    this.listening = false;
    this.server.close();
    this.server.closeAllConnections();
    this.outageTimer = setTimeout(
      () => {
        this.outageTimer = null;
        void this.endOutage();
      },
      Math.max(0, until - performance.now()),
    );
  }

  private async endOutage(): Promise<void> {
    for (let attempt = 0; !this.stopped && !this.listening; attempt++) {
      try {
        await this.listen(this.port);
      } catch (err) {
        // The port can be briefly unavailable right after close; another process taking it
        // is not something to wait for forever.
        if (attempt >= 50) {
          console.error(`standin: could not listen again on port ${this.port}:`, err);
          return;
        }
        await sleep(100);
      }
    }
  }

  /** Applies latency and returns the terminal fault to carry out, if any. */
  private async faultFor(kind: RequestKind): Promise<TerminalFault | null> {
    return (await this.decideFaults(kind)).terminal;
  }

  private async decideFaults(kind: RequestKind): Promise<FaultDecision> {
    const d = this.faults.decide(kind);
    const latency = d.latencyMs + (this.opts.latencyMs ?? 0);
    if (latency > 0) await sleep(latency);
    return d;
  }

  /** Carries out refuse/status/failCommit; returns true when the request was answered. */
  private answerFault(fault: TerminalFault | null, req: IncomingMessage, res: ServerResponse, statsKey: [string, string, string]): boolean {
    if (fault === null || fault.kind === "dropUpload") return false;
    const [method, route, fn] = statsKey;
    if (fault.kind === "refuse") {
      this.stats.request(method, route, fn, "reset");
      req.socket.destroy();
      return true;
    }
    if (fault.kind === "paused") {
      if (route === "/api/storage/upload" || route.startsWith("/api/storage/")) {
        this.stats.request(method, route, fn, 400);
        sendJson(res, 400, { code: "BackendIsNotRunning", message: "Cannot perform this operation when the backend is not running" });
      } else {
        // What Convex answers for every function of a paused deployment: no errorData, no text.
        this.stats.request(method, route, fn, 200);
        this.stats.functionError(fn, "paused");
        sendJson(res, 200, { status: "error", errorMessage: `[Request ID: ${randomBytes(8).toString("hex")}] Server Error`, logLines: [] });
      }
      return true;
    }
    if (fault.kind === "occ") {
      this.stats.request(method, route, fn, 503);
      this.stats.functionError(fn, "OptimisticConcurrencyControlFailure");
      sendJson(res, 503, { code: "OptimisticConcurrencyControlFailure", message: OCC_MESSAGE });
      return true;
    }
    if (fault.kind === "failCommit") {
      this.stats.request(method, route, fn, 500);
      sendJson(res, 500, { code: "InternalServerError", message: "Injected commit failure: sync:commit was not run" });
      return true;
    }
    this.stats.request(method, route, fn, fault.status);
    sendJson(
      res,
      fault.status,
      { code: STATUS_FAULT_CODES[fault.status], message: `Injected ${fault.status} response` },
      fault.status === 429 ? { "Retry-After": String(fault.retryAfterS) } : {},
    );
    return true;
  }

  // ---- routing ------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const p = url.pathname;
    const method = req.method ?? "GET";
    if (p.startsWith("/_standin/")) return await this.control(req, res, url);
    const kind = FUNCTION_ROUTES[p];
    if (kind !== undefined) {
      if (method !== "POST") return this.notAllowed(req, res, p);
      return await this.functionCall(req, res, p, kind);
    }
    if (p === "/api/storage/upload") {
      if (method !== "POST") return this.notAllowed(req, res, p);
      return await this.upload(req, res, url);
    }
    if (p.startsWith("/api/storage/") && (method === "GET" || method === "HEAD")) {
      // Keys are UUIDs: anything that does not even decode is simply not found.
      let key: string;
      try {
        key = decodeURIComponent(p.slice("/api/storage/".length));
      } catch {
        key = "";
      }
      return await this.download(req, res, key);
    }
    await drain(req);
    this.stats.request(method, p, "", 404);
    sendJson(res, 404, { code: "NotFound", message: `No route for ${method} ${p}` });
  }

  private async notAllowed(req: IncomingMessage, res: ServerResponse, p: string): Promise<void> {
    await drain(req);
    this.stats.request(req.method ?? "", p, "", 405);
    sendJson(res, 405, { code: "MethodNotAllowed", message: `${req.method} is not allowed on ${p}` });
  }

  private async functionCall(req: IncomingMessage, res: ServerResponse, route: string, kind: FunctionKind): Promise<void> {
    const method = "POST";
    const body = await readBody(req, CONVEX_LIMITS.wireBytes);
    const badBody = (message: string) => {
      this.stats.request(method, route, "", 400);
      sendJson(res, 400, { code: "BadJsonBody", message });
    };
    if (body === null) return badBody(`The request body is larger than the limit of ${CONVEX_LIMITS.wireBytes} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (err) {
      return badBody(`Failed to parse the JSON body: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || typeof (parsed as { path?: unknown }).path !== "string") {
      return badBody("The JSON body is missing the string field `path`");
    }
    const { path: rawPath, args } = parsed as { path: string; args?: unknown };
    const fn = canonicalPath(rawPath);
    const udfKind = this.engine.kindOf(fn);
    // A function's latency is spent holding its concurrency slot, as a slow function holds one.
    const slot = udfKind === null ? { release: () => {} } : await this.concurrency.acquire(udfKind);
    if (slot === null) {
      this.stats.request(method, route, fn, 429);
      this.stats.functionError(fn, "TooManyConcurrentRequests");
      return sendJson(res, 429, ConcurrencyLimiter.refusal(udfKind!, this.concurrency.current()!.limit));
    }
    try {
      const fault = await this.faultFor({ faultPath: fn, isUpload: false, isMutation: udfKind === "mutation" });
      if (this.answerFault(fault, req, res, [method, route, fn])) return;
      await this.runFunction(res, method, route, fn, kind, udfKind, args);
    } finally {
      slot.release();
    }
  }

  private async runFunction(
    res: ServerResponse,
    method: string,
    route: string,
    fn: string,
    kind: FunctionKind,
    udfKind: "query" | "mutation" | "action" | null,
    args: unknown,
  ): Promise<void> {
    if (udfKind === "mutation") {
      const refusal = this.writes.refusal();
      if (refusal !== null) {
        this.stats.request(method, route, fn, 429);
        this.stats.functionError(fn, refusal.code);
        return sendJson(res, 429, refusal);
      }
    }
    this.stats.functionCall(fn);
    if (udfKind === "query") {
      const cached = this.queryCache.get(fn, args);
      if (cached !== null) {
        this.stats.request(method, route, fn, 200);
        return sendJson(res, 200, { status: "success", value: this.rewriteUrls(cached.value as JSONValue), logLines: [] });
      }
    }
    const result = await this.engine.call(kind, fn, args);
    this.stats.request(method, route, fn, 200);
    if (result.status === "success" && udfKind === "query") this.queryCache.put(fn, args, result.value);
    if (result.status === "error") {
      this.stats.functionError(fn, result.code);
      const { errorMessage, errorData } = result;
      return sendJson(res, 200, { status: "error", errorMessage, ...(errorData === undefined ? {} : { errorData }), logLines: [] });
    }
    for (const c of committedJobs(fn, result.decodedArgs, result.result)) {
      // The instant as ISO text: the daemon's own, or a plan-style writer's epoch ms ("" when it sent none).
      const updatedAt = c.job.updatedAtIso ?? (c.job.updatedAt === undefined ? "" : microsToIso(c.job.updatedAt * 1000));
      this.stats.commit({ jobId: c.job.jobId, updatedAt, outcome: c.outcome, atMs: Date.now() });
    }
    sendJson(res, 200, { status: "success", value: this.rewriteUrls(result.value), logLines: [] });
  }

  private async upload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const key: [string, string, string] = ["POST", "/api/storage/upload", ""];
    const decision = await this.decideFaults({ faultPath: "upload", isUpload: true });
    const fault = decision.terminal;
    if (fault !== null && fault.kind !== "refuse" && fault.kind !== "dropUpload") await drain(req);
    if (this.answerFault(fault, req, res, key)) return;
    const token = this.blobs.tokenState(url.searchParams.get("token"));
    if (token !== "valid") {
      await drain(req);
      this.stats.request(...key, 401);
      return sendJson(
        res,
        401,
        token === "expired"
          ? { code: "StorageTokenExpired", message: "Store File Authorization expired" }
          : { code: "StorageTokenInvalid", message: "Couldn't decode the StoreFileAuthorization token" },
      );
    }
    const digest = parseSha256Digest(req.headers.digest as string | undefined);
    if (digest === "invalid") {
      await drain(req);
      this.stats.request(...key, 400);
      return sendJson(res, 400, { code: "BadHeader", message: "Bad header for digest: invalid HTTP header (digest)" });
    }
    let dropAfterBytes: number | undefined;
    if (fault?.kind === "dropUpload") {
      const length = Number(req.headers["content-length"]);
      dropAfterBytes = Number.isFinite(length) ? (length > 1 ? Math.floor(length / 2) : 0) : 1;
    }
    const outcome = await this.blobs.receive(req, {
      contentType: req.headers["content-type"],
      expectedSha256: digest,
      ...(dropAfterBytes === undefined ? {} : { dropAfterBytes }),
      ...(decision.uploadBytesPerSec === null ? {} : { bytesPerSec: decision.uploadBytesPerSec }),
      ...(this.opts.uploadRequestTimeoutMs === undefined ? {} : { timeoutMs: this.opts.uploadRequestTimeoutMs }),
    });
    switch (outcome.kind) {
      case "stored":
        this.stats.upload();
        this.stats.request(...key, 200);
        sendJson(res, 200, { storageId: outcome.storageId });
        if (++this.uploadsSinceSweep >= 1000) {
          this.uploadsSinceSweep = 0;
          await this.blobs.sweep();
        }
        return;
      case "digestMismatch":
        this.stats.request(...key, 400);
        return sendJson(res, 400, {
          code: "Sha256Mismatch",
          message: `Digest header sha-256=${outcome.expected} does not match the body's sha-256=${outcome.actual}`,
        });
      case "timedOut":
        // As the backend's request-timeout layer answers: 408, no body; the connection closes.
        this.stats.request(...key, 408);
        res.writeHead(408, { Connection: "close", "Content-Length": "0" });
        {
          const socket = req.socket;
          res.end(() => socket?.destroy());
        }
        return;
      case "dropped":
      case "aborted":
        this.stats.request(...key, outcome.kind);
        return;
    }
  }

  private async download(req: IncomingMessage, res: ServerResponse, storageKey: string): Promise<void> {
    const key: [string, string, string] = [req.method ?? "GET", "/api/storage/{key}", ""];
    const fault = await this.faultFor({ faultPath: "download", isUpload: false });
    if (this.answerFault(fault, req, res, key)) return;
    if (!this.blobs.serve(storageKey, req, res)) {
      this.stats.request(...key, 404);
      return sendJson(res, 404, { code: "FileNotFound", message: `File not found: ${storageKey}` });
    }
    this.stats.request(...key, res.statusCode);
  }

  private rewriteUrl(rest: string): string {
    if (rest.startsWith("upload?token=")) return `${this.origin}/api/storage/upload?token=${this.blobs.issueUploadToken()}`;
    return `${this.origin}/api/storage/${this.blobs.keyFor(rest)}`;
  }

  private rewriteUrls(value: JSONValue): JSONValue {
    if (typeof value === "string") {
      if (value.startsWith(FAKE_STORAGE_PREFIX)) return this.rewriteUrl(value.slice(FAKE_STORAGE_PREFIX.length));
      // A URL inside JSON text (the public component): up to the closing quote.
      if (!value.includes(FAKE_STORAGE_PREFIX)) return value;
      return value.replace(FAKE_URL_IN_TEXT, (_m, rest: string) => this.rewriteUrl(rest));
    }
    if (Array.isArray(value)) return value.map((v) => this.rewriteUrls(v));
    if (value !== null && typeof value === "object") {
      const out: Record<string, JSONValue> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.rewriteUrls(v);
      return out;
    }
    return value;
  }

  // ---- control API --------------------------------------------------------------------

  private async control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    const body = await readBody(req, CONVEX_LIMITS.wireBytes);
    const json = (): unknown => (body === null || body.length === 0 ? {} : JSON.parse(body.toString("utf8")));
    switch (route) {
      case "GET /_standin/stats":
        return sendJson(res, 200, this.snapshot());
      case "GET /_standin/commits": {
        const since = url.searchParams.get("since");
        return sendJson(res, 200, this.stats.commits(since === null ? undefined : Number(since)));
      }
      case "GET /_standin/faults":
        return sendJson(res, 200, this.faults.active());
      case "POST /_standin/faults": {
        let specs: FaultSpec[];
        try {
          const parsed = json();
          specs = (Array.isArray(parsed) ? parsed : [parsed]).map((s) => faultSpecSchema.parse(s));
        } catch (err) {
          return sendJson(res, 400, { code: "BadFaultSpec", message: (err as Error).message });
        }
        for (const s of specs) this.faults.add(s);
        const until = this.faults.takeListenerOutage();
        sendJson(res, 200, {
          active: this.faults.active(),
          ...(until === null ? {} : { listenerClosedMs: Math.round(until - performance.now()) }),
        });
        // Close the listener only once this answer is out.
        if (until !== null) res.once("finish", () => setImmediate(() => this.startOutage(until)));
        return;
      }
      case "DELETE /_standin/faults":
        this.clearFaults();
        return sendJson(res, 200, {});
      case "GET /_standin/export": {
        const table = url.searchParams.get("table");
        if (table === null || !EXPORTABLE_TABLE.test(table)) {
          return sendJson(res, 400, { code: "BadTable", message: "Expected ?table=<name> (a table of the schema, or _storage)" });
        }
        res.writeHead(200, { "Content-Type": "application/x-ndjson" });
        res.end(
          this.engine
            .exportTable(table)
            .map((d) => `${JSON.stringify(d)}\n`)
            .join(""),
        );
        return;
      }
      case "POST /_standin/reset":
        await this.reset();
        return sendJson(res, 200, {});
      case "POST /_standin/gc": {
        let graceMs: unknown;
        try {
          graceMs = (json() as { graceMs?: unknown }).graceMs;
        } catch (err) {
          return sendJson(res, 400, { code: "BadJsonBody", message: (err as Error).message });
        }
        if (typeof graceMs !== "number" || !(graceMs >= 0)) {
          return sendJson(res, 400, { code: "BadJsonBody", message: "Expected {graceMs: number >= 0}" });
        }
        return sendJson(res, 200, await this.runGc(graceMs));
      }
      default:
        return sendJson(res, 404, { code: "NotFound", message: `No control route ${route}` });
    }
  }

  snapshot(): StandinStats {
    const e = this.engine;
    return this.stats.snapshot(
      {
        jobs: e.documentCount("jobs"),
        jobAssets: e.documentCount("jobAssets"),
        jobEvents: e.documentCount("jobEvents"),
        jobSyncStates: e.documentCount("jobSyncStates"),
        syncMeta: e.documentCount("syncMeta"),
      },
      e.blobTotals(),
    );
  }

  commits(sinceMs?: number): CommitRecord[] {
    return this.stats.commits(sinceMs);
  }

  async reset(): Promise<void> {
    this.clearFaults();
    this.engine.reset();
    this.queryCache.invalidate();
    await this.blobs.reset();
    this.stats = new StatsRecorder(this.opts.commitRingSize);
  }

  async runGc(graceMs: number): Promise<{ scanned: number; deleted: number; more: boolean }> {
    const result = await this.engine.runGc(graceMs);
    await this.blobs.sweep();
    return result;
  }

  private internalError(res: ServerResponse, err: unknown): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    // A client that went away mid-body is not the stand-in's failure.
    if (res.req.destroyed && res.req.readableAborted) return;
    console.error("standin: internal error", err);
    sendJson(res, 500, { code: "InternalServerError", message: String(err) });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.outageTimer !== null) clearTimeout(this.outageTimer);
    this.outageTimer = null;
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
    await this.blobs.close();
  }

  toStandin(): Standin {
    return {
      url: this.origin,
      port: this.port,
      stop: () => this.stop(),
      stats: () => this.snapshot(),
      commits: (sinceMs) => this.commits(sinceMs),
      setFaults: (f) => this.setFaults(Array.isArray(f) ? f : [f]),
      setFunctionConcurrency: (limit) => this.concurrency.configure(limit),
      setWriteLimit: (limit) => this.writes.configure(limit),
      setQueryCache: (maxAgeMs) => this.queryCache.configure(maxAgeMs),
      clearFaults: () => this.clearFaults(),
      reset: () => this.reset(),
      runGc: (graceMs) => this.runGc(graceMs),
      engine: this.engine,
    };
  }
}

/** Starts a stand-in deployment; resolves once it accepts connections. */
export async function startStandin(opts: StartStandinOptions = {}): Promise<Standin> {
  if (opts.token !== undefined) process.env.CELSTATE_SYNC_TOKEN = opts.token;
  const engine = await ConvexEngine.create(await loadConvexModules(), await loadConvexComponents());
  const blobs = await BlobStore.create({
    engine: () => engine,
    ...(opts.uploadDir === undefined ? {} : { uploadDir: opts.uploadDir }),
    ...(opts.uploadUrlTtlMs === undefined ? {} : { ttlMs: opts.uploadUrlTtlMs }),
  });
  const server = new StandinServer(engine, blobs, opts);
  try {
    await server.listen(opts.port ?? 0);
  } catch (err) {
    await blobs.close();
    throw err;
  }
  return server.toStandin();
}
