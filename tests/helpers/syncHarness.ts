/**
 * Shared set-up for end-to-end tests: a stand-in with a random token, a temp jobs folder, a
 * resolved configuration pointing at both, a real gateway, and helpers to read the public view.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import pino from "pino";
import type { Config, ConfigInput } from "../../src/config/configSchema.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { ConvexHttpGateway } from "../../src/remote/ConvexHttpGateway.js";
import { parsePublicComponent } from "../../src/remote/publicComponent.js";
import { type Standin, type StartStandinOptions, startStandin } from "../standin/StandinServer.js";
import { CONVEX_WRITE_LIMIT } from "../standin/WriteThroughput.js";

export type Harness = {
  standin: Standin;
  token: string;
  jobsDir: string;
  client: ConvexHttpClient;
  config: (over?: Partial<ConfigInput>) => Config;
  gateway: (config?: Config) => ConvexHttpGateway;
  /** `jobs:getPublic`, its component parsed from the JSON text it is served as. */
  getPublic: (jobId: string) => Promise<Record<string, unknown> | null>;
  /** `jobs:getPublic` exactly as served (the component as text). */
  getPublicRaw: (jobId: string) => Promise<Record<string, unknown> | null>;
  log: pino.Logger;
  cleanup: () => Promise<void>;
};

const getPublicRef = makeFunctionReference<"query">("jobs:getPublic");

export async function createHarness(opts: Omit<StartStandinOptions, "port" | "token"> = {}): Promise<Harness> {
  const token = randomBytes(16).toString("hex");
  const standin = await startStandin({ ...opts, port: 0, token });
  if (process.env.CELSTATE_SYNC_STANDIN_UNDER_LOAD === "1") {
    // The suites once more against a deployment under load (README, Testing): Convex's
    // concurrency limit made tight, a tenth of mutations refused as OCC failures, Convex's
    // write-throughput limit, and its query-result cache.
    standin.setFunctionConcurrency({ limit: 4, waitMs: 5 });
    standin.setFaults({ occ: true, probability: 0.1 });
    standin.setWriteLimit(CONVEX_WRITE_LIMIT);
    standin.setQueryCache(17_000);
  }
  const jobsDir = await mkdtemp(path.join(tmpdir(), "celstate-e2e-"));
  const client = new ConvexHttpClient(standin.url, { logger: false });
  const config = (over: Partial<ConfigInput> = {}) =>
    loadConfig({
      cwd: jobsDir,
      env: {},
      flags: {
        jobsDir,
        convexUrl: standin.url,
        token,
        settleMs: 0,
        logLevel: "silent",
        ...over,
        retry: { baseMs: 10, maxMs: 200, maxAttempts: 50, maxRetryMs: 60_000, ...(over.retry ?? {}) },
      },
    }).config;
  return {
    standin,
    token,
    jobsDir,
    client,
    config,
    gateway: (c = config()) =>
      new ConvexHttpGateway({ url: standin.url, token, requestTimeoutMs: c.requestTimeoutMs, uploadTimeoutMs: c.uploadTimeoutMs }),
    getPublic: async (jobId) => {
      const pub = (await client.query(getPublicRef, { jobId })) as Record<string, unknown> | null;
      return pub === null ? null : { ...pub, component: parsePublicComponent(pub.component as string | null) };
    },
    getPublicRaw: async (jobId) => (await client.query(getPublicRef, { jobId })) as Record<string, unknown> | null,
    log: pino({ level: "silent" }),
    cleanup: async () => {
      await standin.stop();
      await rm(jobsDir, { recursive: true, force: true });
    },
  };
}

export function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

export async function download(url: string): Promise<{ bytes: Buffer; contentType: string | null }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get("content-type") };
}

export { waitFor } from "./waitFor.js";
