/**
 * Set-up shared by the security suite: a stand-in whose upload folder the test can read (so
 * every stored blob can be searched for bytes that must never leave the machine), a jobs folder
 * with room beside it for files "outside", and resolved configurations pointing at both.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeFunctionReference } from "convex/server";
import { ConvexHttpClient } from "convex/browser";
import pino from "pino";
import type { Config, ConfigInput } from "../../src/config/configSchema.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { ConvexHttpGateway } from "../../src/remote/ConvexHttpGateway.js";
import { type Standin, startStandin } from "../standin/StandinServer.js";

export type SecurityHarness = {
  standin: Standin;
  token: string;
  /** Holds `jobs/`, `outside/` and `uploads/`. */
  base: string;
  jobsDir: string;
  outsideDir: string;
  uploadDir: string;
  client: ConvexHttpClient;
  config: (over?: Partial<ConfigInput>) => Config;
  gateway: (config?: Config) => ConvexHttpGateway;
  getPublic: (jobId: string) => Promise<Record<string, unknown> | null>;
  log: pino.Logger;
  cleanup: () => Promise<void>;
};

const getPublicRef = makeFunctionReference<"query">("jobs:getPublic");

export async function createSecurityHarness(): Promise<SecurityHarness> {
  const token = randomBytes(24).toString("hex");
  const base = await mkdtemp(path.join(tmpdir(), "celstate-security-"));
  const jobsDir = path.join(base, "jobs");
  const outsideDir = path.join(base, "outside");
  const uploadDir = path.join(base, "uploads");
  await Promise.all([mkdir(jobsDir), mkdir(outsideDir), mkdir(uploadDir)]);
  const standin = await startStandin({ port: 0, token, uploadDir });
  const client = new ConvexHttpClient(standin.url, { logger: false });
  const config = (over: Partial<ConfigInput> = {}) =>
    loadConfig({
      cwd: base,
      env: {},
      flags: { jobsDir, convexUrl: standin.url, token, settleMs: 0, settleWaitMs: 500, logLevel: "silent", ...over },
    }).config;
  return {
    standin,
    token,
    base,
    jobsDir,
    outsideDir,
    uploadDir,
    client,
    config,
    gateway: (c = config()) =>
      new ConvexHttpGateway({ url: standin.url, token, requestTimeoutMs: c.requestTimeoutMs, uploadTimeoutMs: c.uploadTimeoutMs }),
    getPublic: async (jobId) => (await client.query(getPublicRef, { jobId })) as Record<string, unknown> | null,
    log: pino({ level: "silent" }),
    cleanup: async () => {
      await standin.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Every file in the stand-in's upload folder (each stored blob's bytes), read whole. */
export async function storedBlobs(h: SecurityHarness): Promise<Buffer[]> {
  const names = await readdir(h.uploadDir);
  return await Promise.all(names.map((n) => readFile(path.join(h.uploadDir, n))));
}

/** Every document of the deployment's tables, as text (records, asset rows, events). */
export async function allDocumentsText(h: SecurityHarness): Promise<string> {
  const t = h.standin.engine.convex;
  const docs = await t.run(async (ctx) => {
    const out: unknown[] = [];
    for (const table of ["jobs", "jobAssets", "jobEvents", "syncMeta"] as const) out.push(...(await ctx.db.query(table).collect()));
    return out;
  });
  return JSON.stringify(docs);
}
