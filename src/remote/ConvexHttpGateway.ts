/**
 * The ConvexGateway over the official `ConvexHttpClient`, with what the client lacks
 * (CONVEX_NOTES.md): a timeout on every request, transport status codes kept for
 * classification, mutations not serialised behind each other (`skipQueue`), and a normalised
 * URL. The service token is added to every call here and nowhere else.
 */
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { FunctionFailure, HttpStatusError } from "../errors/classifyError.js";
import type {
  CommitArgs,
  CommitResult,
  ConvexGateway,
  GatewayStats,
  PublicJob,
  RemoteJobState,
  StoredRecord,
  TimelineEvent,
  UploadBody,
} from "./ConvexGateway.js";
import { SyncError } from "../errors/SyncError.js";
import { nodeFetch } from "./nodeFetch.js";
import { uploadBlob } from "./uploadBlob.js";
import { UploadRate } from "./UploadRate.js";

export type ConvexHttpGatewayOptions = {
  url: string;
  token: string;
  requestTimeoutMs: number;
  uploadTimeoutMs: number;
};

const fn = {
  handshake: makeFunctionReference<"query">("sync:handshake"),
  getStates: makeFunctionReference<"query">("sync:getStates"),
  generateUploadUrls: makeFunctionReference<"mutation">("assets:generateUploadUrls"),
  commit: makeFunctionReference<"mutation">("sync:commit"),
  commitMany: makeFunctionReference<"mutation">("sync:commitMany"),
  getPublic: makeFunctionReference<"query">("jobs:getPublic"),
  getRecord: makeFunctionReference<"query">("sync:getRecord"),
  timeline: makeFunctionReference<"query">("sync:timeline"),
  collectNow: makeFunctionReference<"mutation">("gc:collectNow"),
};

/**
 * The client reports a function failure without `ConvexError` data as a plain `Error` holding
 * the server's message; every other error it passes on has a class of its own (ConvexError,
 * our HttpStatusError, fetch's TypeError and DOMExceptions). Wrapping the plain ones keeps
 * "the deployment said Server Error" apart from a bug of ours.
 */
async function call<T>(name: string, run: () => Promise<unknown>): Promise<T> {
  try {
    return (await run()) as T;
  } catch (e) {
    if (e instanceof Error && e.constructor === Error) throw new FunctionFailure(name, e.message);
    throw e;
  }
}

export function normaliseConvexUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

export class ConvexHttpGateway implements ConvexGateway {
  private readonly client: ConvexHttpClient;
  private readonly counters: GatewayStats = { requests: 0, byFunction: {}, uploads: 0, bytesUploaded: 0 };
  private readonly rate = new UploadRate();

  constructor(private readonly opts: ConvexHttpGatewayOptions) {
    const timeoutMs = opts.requestTimeoutMs;
    const fetchWithin = nodeFetch(timeoutMs);
    const timedFetch: typeof fetch = async (input, init) => {
      const res = await fetchWithin(input, init);
      // The client turns non-2xx into a plain Error carrying only the body; keep the status.
      if (!res.ok && res.status !== 560) {
        const ra = Number(res.headers.get("retry-after"));
        throw new HttpStatusError(res.status, await res.text(), Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
      }
      return res;
    };
    this.client = new ConvexHttpClient(normaliseConvexUrl(opts.url), {
      logger: false,
      fetch: timedFetch,
      skipConvexDeploymentUrlCheck: true,
    });
  }

  private count(name: string): void {
    this.counters.requests++;
    this.counters.byFunction[name] = (this.counters.byFunction[name] ?? 0) + 1;
  }

  async handshake() {
    this.count("sync:handshake");
    return await call<{ apiVersion: number; serverTimeMs: number }>("sync:handshake", () =>
      // A fresh argument each time: a cached answer would carry a stale serverTimeMs.
      this.client.query(fn.handshake, { serviceToken: this.opts.token, clientTimeMs: Date.now() }),
    );
  }

  async getStates(jobIds: readonly string[]) {
    this.count("sync:getStates");
    return await call<Array<RemoteJobState | null>>("sync:getStates", () =>
      this.client.query(fn.getStates, { serviceToken: this.opts.token, jobIds }),
    );
  }

  async generateUploadUrls(count: number) {
    this.count("assets:generateUploadUrls");
    return await call<string[]>("assets:generateUploadUrls", () =>
      this.client.mutation(fn.generateUploadUrls, { serviceToken: this.opts.token, count }, { skipQueue: true }),
    );
  }

  async upload(url: string, body: UploadBody, signal?: AbortSignal) {
    // Always tried: the measured rate is a share of the link while other uploads run, so it
    // alone never refuses a file; only a timeout of the file's own upload is a fact.
    this.count("upload");
    const started = performance.now();
    let storageId: string;
    try {
      storageId = await uploadBlob(url, body, { timeoutMs: this.opts.uploadTimeoutMs, ...(signal ? { signal } : {}) });
    } catch (e) {
      // Timed out, and the measured rate says it had to: the file's size, not an outage. Our
      // own timeout is uploadTimeoutMs; a 408 is the deployment's, which cut it after as long
      // as this attempt ran.
      if (!signal?.aborted) {
        if (e instanceof Error && e.name === "TimeoutError") this.refuseIfTooSlow(body, this.opts.uploadTimeoutMs);
        if (e instanceof HttpStatusError && e.status === 408) this.refuseIfTooSlow(body, performance.now() - started);
      }
      throw e;
    }
    this.rate.record(body.bytes, performance.now() - started);
    this.counters.uploads++;
    this.counters.bytesUploaded += body.bytes;
    return storageId;
  }

  /** Throws UPLOAD_TOO_SLOW when the file needs more than `limitMs` at the measured rate. */
  private refuseIfTooSlow(body: UploadBody, limitMs: number): void {
    const expected = this.rate.expectedMs(body.bytes);
    if (expected === null || expected <= limitMs) return;
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
    throw new SyncError(
      "UPLOAD_TOO_SLOW",
      `${body.file ?? "a file"} is ${body.bytes} bytes (${mib(body.bytes)}); at the ${mib(this.rate.bytesPerSec()!)}/s uploads reach it needs about ${Math.ceil(expected / 1000)} s, more than an upload may take (${Math.round(limitMs / 1000)} s: uploadTimeoutMs, or the deployment's own cut; Convex allows 2 minutes)`,
      body.file === undefined ? {} : { file: body.file },
    );
  }

  async commit(args: CommitArgs) {
    this.count("sync:commit");
    return await call<CommitResult>("sync:commit", () =>
      this.client.mutation(fn.commit, { serviceToken: this.opts.token, ...args }, { skipQueue: true }),
    );
  }

  async commitMany(commits: CommitArgs[]) {
    this.count("sync:commitMany");
    return await call<CommitResult[]>("sync:commitMany", () =>
      this.client.mutation(fn.commitMany, { serviceToken: this.opts.token, commits }, { skipQueue: true }),
    );
  }

  async getPublic(jobId: string) {
    this.count("jobs:getPublic");
    return await call<PublicJob | null>("jobs:getPublic", () => this.client.query(fn.getPublic, { jobId }));
  }

  async getRecord(jobId: string) {
    this.count("sync:getRecord");
    return await call<StoredRecord | null>("sync:getRecord", () =>
      this.client.query(fn.getRecord, { serviceToken: this.opts.token, jobId }),
    );
  }

  async timeline(jobId: string) {
    this.count("sync:timeline");
    return await call<TimelineEvent[]>("sync:timeline", () => this.client.query(fn.timeline, { serviceToken: this.opts.token, jobId }));
  }

  async collectGarbage(graceMs: number) {
    this.count("gc:collectNow");
    return await call<{ scanned: number; deleted: number; more: boolean }>("gc:collectNow", () =>
      this.client.mutation(fn.collectNow, { serviceToken: this.opts.token, graceMs }, { skipQueue: true }),
    );
  }

  stats(): GatewayStats {
    return { ...this.counters, byFunction: { ...this.counters.byFunction } };
  }
}
