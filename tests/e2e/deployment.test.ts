/**
 * The mirroring scenarios that need nothing but the public wire protocol, so they run against
 * a real Convex deployment when asked to (CELSTATE_SYNC_TEST_DEPLOYMENT=1 with CONVEX_URL and
 * CELSTATE_SYNC_TOKEN of a scratch deployment), and against the local stand-in otherwise.
 * Job ids are random UUIDs, so runs never collide with each other or with real data.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/loadConfig.js";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { checkDeployment } from "../../src/remote/checkDeployment.js";
import { ConvexHttpGateway } from "../../src/remote/ConvexHttpGateway.js";
import { parsePublicComponent } from "../../src/remote/publicComponent.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { download, sha256 } from "../helpers/syncHarness.js";
import { type Standin, startStandin } from "../standin/StandinServer.js";

const real = process.env.CELSTATE_SYNC_TEST_DEPLOYMENT === "1";
let url: string;
let token: string;
let standin: Standin | null = null;
let jobsDir: string;

beforeAll(async () => {
  if (real) {
    url = process.env.CONVEX_URL ?? "";
    token = process.env.CELSTATE_SYNC_TOKEN ?? "";
    if (!url || !token) throw new Error("CELSTATE_SYNC_TEST_DEPLOYMENT=1 needs CONVEX_URL and CELSTATE_SYNC_TOKEN of a scratch deployment");
  } else {
    token = randomBytes(16).toString("hex");
    standin = await startStandin({ port: 0, token });
    url = standin.url;
  }
  jobsDir = await mkdtemp(path.join(tmpdir(), "celstate-deploy-"));
});

afterAll(async () => {
  await standin?.stop();
  await rm(jobsDir, { recursive: true, force: true });
});

const config = () =>
  loadConfig({ cwd: jobsDir, env: {}, flags: { jobsDir, convexUrl: url, token, settleMs: 0, logLevel: "silent" } }).config;
const gateway = () => new ConvexHttpGateway({ url, token, requestTimeoutMs: 30_000, uploadTimeoutMs: 120_000 });
const getPublic = makeFunctionReference<"query">("jobs:getPublic");

describe(`mirroring against ${real ? "a real deployment" : "the local stand-in"}`, () => {
  const jobs: PipelineJob[] = [];

  it("deployment › the handshake accepts the token and speaks this version's API", async () => {
    const info = await checkDeployment(gateway());
    expect(info.apiVersion).toBe(API_VERSION);
  });

  it("deployment › writes are refused without the token", async () => {
    const client = new ConvexHttpClient(url, { logger: false });
    const err = await client
      .mutation(makeFunctionReference<"mutation">("assets:generateUploadUrls"), { serviceToken: "wrong", count: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvexError);
    expect((err as ConvexError<{ code: string }>).data.code).toBe("UNAUTHORIZED");
  });

  it("deployment › backfill mirrors records and bytes; a second run uploads and writes nothing", async () => {
    for (let i = 0; i < 3; i++) {
      const j = new PipelineJob(jobsDir, { pngBytes: 30_000 });
      await j.runToSuccess();
      jobs.push(j);
    }
    const ids = jobs.map((j) => j.id);
    const first = await runBackfill({ config: config(), gateway: gateway(), log: pino({ level: "silent" }), jobIds: ids });
    expect(first.summary.failed).toEqual([]);
    expect(first.summary.syncedNow).toBe(3);
    const client = new ConvexHttpClient(url, { logger: false });
    for (const j of jobs) {
      const rec = parsePythonJson(await readFile(path.join(j.dir, "job.json"), "utf8")) as Record<string, unknown>;
      const pub = (await client.query(getPublic, { jobId: j.id })) as Record<string, unknown>;
      expect(Object.keys(pub).sort()).toEqual(["component", "error", "jobId", "status"]);
      expect(pub.status).toBe(rec.status);
      const assets = parsePublicComponent(pub.component as string)!.assets as Record<string, string>;
      for (const [name, u] of Object.entries(assets)) {
        expect(sha256((await download(u)).bytes)).toBe(sha256(await readFile(path.join(j.dir, "outputs", name))));
      }
    }
    const second = await runBackfill({ config: config(), gateway: gateway(), log: pino({ level: "silent" }), jobIds: ids });
    expect(second.summary.inSync).toBe(3);
    expect(second.summary.requestsByFunction).toEqual({ "sync:getStates": 1 });
  });
});
