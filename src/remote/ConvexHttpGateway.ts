/**
 * The ConvexGateway over the official `ConvexHttpClient`, with what the client lacks
 * (CONVEX_NOTES.md): a timeout on every request, transport status codes kept for
 * classification, mutations not serialised behind each other (`skipQueue`), and a normalised
 * URL. The service token is added to every call here and nowhere else.
 */
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { HttpStatusError } from "../errors/classifyError.js";
import type { CommitArgs, CommitResult, ConvexGateway, GatewayStats, PublicJob, RemoteJobState, UploadBody } from "./ConvexGateway.js";
import { uploadBlob } from "./uploadBlob.js";

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
  getPublic: makeFunctionReference<"query">("jobs:getPublic"),
  collectNow: makeFunctionReference<"mutation">("gc:collectNow"),
};

export function normaliseConvexUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

export class ConvexHttpGateway implements ConvexGateway {
  private readonly client: ConvexHttpClient;
  private readonly counters: GatewayStats = { requests: 0, byFunction: {}, uploads: 0, bytesUploaded: 0 };

  constructor(private readonly opts: ConvexHttpGatewayOptions) {
    const timeoutMs = opts.requestTimeoutMs;
    const timedFetch: typeof fetch = async (input, init) => {
      const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const res = await fetch(input, { ...init, signal });
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
    return (await this.client.query(fn.handshake, { serviceToken: this.opts.token })) as { apiVersion: number; serverTimeMs: number };
  }

  async getStates(jobIds: string[]) {
    this.count("sync:getStates");
    return (await this.client.query(fn.getStates, { serviceToken: this.opts.token, jobIds })) as Array<RemoteJobState | null>;
  }

  async generateUploadUrls(count: number) {
    this.count("assets:generateUploadUrls");
    return (await this.client.mutation(fn.generateUploadUrls, { serviceToken: this.opts.token, count }, { skipQueue: true })) as string[];
  }

  async upload(url: string, body: UploadBody, signal?: AbortSignal) {
    this.count("upload");
    const storageId = await uploadBlob(url, body, { timeoutMs: this.opts.uploadTimeoutMs, ...(signal ? { signal } : {}) });
    this.counters.uploads++;
    this.counters.bytesUploaded += body.bytes;
    return storageId;
  }

  async commit(args: CommitArgs) {
    this.count("sync:commit");
    return (await this.client.mutation(fn.commit, { serviceToken: this.opts.token, ...args }, { skipQueue: true })) as CommitResult;
  }

  async getPublic(jobId: string) {
    this.count("jobs:getPublic");
    return (await this.client.query(fn.getPublic, { jobId })) as PublicJob | null;
  }

  async collectGarbage(graceMs: number) {
    this.count("gc:collectNow");
    return (await this.client.mutation(fn.collectNow, { serviceToken: this.opts.token, graceMs }, { skipQueue: true })) as {
      scanned: number;
      deleted: number;
      more: boolean;
    };
  }

  stats(): GatewayStats {
    return { ...this.counters, byFunction: { ...this.counters.byFunction } };
  }
}
