/**
 * Fault injection of the stand-in, end to end: each fault type as the official client and
 * fetch see it, through the control API and in process.
 */
import { randomBytes } from "node:crypto";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { FaultSpec } from "./FaultInjector.js";
import { startStandin, type Standin } from "./StandinServer.js";
import { commitRecord, jobRecord, sha256Base64, TOKEN } from "./standinTestKit.js";
import { waitFor } from "../helpers/waitFor.js";

let s: Standin;
let client: ConvexHttpClient;
const previousToken = process.env.CELSTATE_SYNC_TOKEN;

beforeAll(async () => {
  s = await startStandin({ token: TOKEN });
});

afterAll(async () => {
  await s.stop();
  if (previousToken === undefined) delete process.env.CELSTATE_SYNC_TOKEN;
  else process.env.CELSTATE_SYNC_TOKEN = previousToken;
});

beforeEach(async () => {
  await s.reset();
  client = new ConvexHttpClient(s.url, { logger: false });
});

async function postFaults(spec: FaultSpec | FaultSpec[]): Promise<Response> {
  return await fetch(`${s.url}/_standin/faults`, { method: "POST", body: JSON.stringify(spec) });
}

async function outcome(call: Promise<unknown>): Promise<"ok" | Error> {
  try {
    await call;
    return "ok";
  } catch (e) {
    return e as Error;
  }
}

const handshake = () => client.query(api.sync.handshake, { serviceToken: TOKEN });

/** The error code of a failed fetch (`ECONNREFUSED`, `UND_ERR_SOCKET`, …). */
function causeCode(e: unknown): string | undefined {
  return (e as { cause?: { code?: string } }).cause?.code;
}

describe("StandinServer › faults", () => {
  test("StandinServer › status faults answer 503/500 for the next `count` matching calls, then stop", async () => {
    expect((await postFaults({ status: 503, count: 2, path: "sync:handshake" })).status).toBe(200);
    const other = await outcome(client.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [] }));
    expect(other).toBe("ok");
    for (let i = 0; i < 2; i++) {
      const err = await outcome(handshake());
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("Overloaded");
    }
    expect(await outcome(handshake())).toBe("ok");
    expect(s.stats().requests["POST /api/query sync:handshake"]).toEqual({ "503": 2, "200": 1 });
    expect(s.stats().functionCalls["sync:handshake"]).toBe(1);

    s.setFaults({ status: 500, count: 1 });
    expect((await outcome(handshake())) as Error).toBeInstanceOf(Error);
    expect(await outcome(handshake())).toBe("ok");
  });

  test("StandinServer › a 429 fault carries Retry-After", async () => {
    s.setFaults({ status: 429, retryAfterS: 7, count: 1 });
    const res = await fetch(`${s.url}/api/query`, {
      method: "POST",
      body: JSON.stringify({ path: "sync:handshake", args: [{ serviceToken: TOKEN }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as { code: string }).code).toBe("TooManyConcurrentRequests");
  });

  test("StandinServer › latency faults delay matching requests, add up, and still answer", async () => {
    s.setFaults([
      { latencyMs: 150, count: 1, path: "sync:handshake" },
      { latencyMs: 100, count: 1 },
    ]);
    const t0 = performance.now();
    expect(await outcome(handshake())).toBe("ok");
    // A lower bound only: the injected delay must have happened (timers may fire ~1 ms early).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(245);
    expect(s.stats().functionCalls["sync:handshake"]).toBe(1);
    expect(await (await fetch(`${s.url}/_standin/faults`)).json()).toEqual([]);
  });

  test("StandinServer › refuse with a count resets the next connections, then serves again", async () => {
    s.setFaults({ refuse: true, count: 1 });
    const err = await outcome(handshake());
    expect(err).toBeInstanceOf(TypeError);
    expect(await outcome(handshake())).toBe("ok");
    const stats = s.stats();
    expect(stats.refusedConnections + (stats.requests["POST /api/query sync:handshake"]?.reset ?? 0)).toBe(1);
  });

  test("StandinServer › refuse for a duration closes the port (ECONNREFUSED) and reopens it", async () => {
    const res = await postFaults({ refuse: true, durationMs: 1500 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { listenerClosedMs?: number }).listenerClosedMs).toBeGreaterThan(0);
    await waitFor(
      async () => {
        const r = await outcome(fetch(`${s.url}/_standin/stats`));
        return r !== "ok" && causeCode(r) === "ECONNREFUSED";
      },
      { what: "the port refuses connections" },
    );
    await waitFor(async () => (await outcome(handshake())) === "ok", { what: "the port accepts connections again" });
    expect(await outcome(client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...jobRecord("after-outage") }))).toBe("ok");
  });

  test("StandinServer › clearing faults in process ends a listener outage at once", async () => {
    s.setFaults({ refuse: true, durationMs: 60_000 });
    // A pooled keep-alive connection may first fail as a reset socket; then the port refuses.
    await waitFor(async () => causeCode(await outcome(fetch(`${s.url}/_standin/stats`))) === "ECONNREFUSED", {
      what: "the port refuses connections",
    });
    s.clearFaults();
    await waitFor(async () => (await outcome(handshake())) === "ok", { what: "the port accepts connections again" });
  });

  test("StandinServer › refuse on one function path resets only those calls", async () => {
    s.setFaults({ refuse: true, path: "sync:commit", count: 1 });
    const job = commitRecord("job-refused");
    const err = await outcome(client.mutation(api.sync.commit, { serviceToken: TOKEN, job, recordHash: "h", assets: [] }));
    expect(err).toBeInstanceOf(TypeError);
    expect(await outcome(handshake())).toBe("ok");
    expect(s.stats().documents.jobs).toBe(0);
    expect(s.stats().requests["POST /api/mutation sync:commit"]).toEqual({ reset: 1 });
  });

  test("StandinServer › failCommit answers sync:commit with a 500 before running it: nothing changes", async () => {
    s.setFaults({ failCommit: true, count: 1 });
    const job = commitRecord("job-failcommit");
    // Other functions are not affected.
    expect(await outcome(client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...jobRecord("job-other") }))).toBe("ok");
    const err = await outcome(client.mutation(api.sync.commit, { serviceToken: TOKEN, job, recordHash: "h", assets: [] }));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("InternalServerError");
    expect(await client.query(api.jobs.getPublic, { jobId: job.jobId })).toBeNull();
    expect(s.stats().functionCalls["sync:commit"]).toBeUndefined();
    expect(await outcome(client.mutation(api.sync.commit, { serviceToken: TOKEN, job, recordHash: "h", assets: [] }))).toBe("ok");
    expect(s.commits().map((c) => c.jobId)).toEqual(["job-other", "job-failcommit"]);
  });

  test("StandinServer › dropUpload destroys the connection midway through the body and stores nothing", async () => {
    const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
    const bytes = randomBytes(4 * 1024 * 1024);
    const send = () =>
      fetch(url, { method: "POST", body: bytes, headers: { "Content-Type": "image/png", Digest: `sha-256=${sha256Base64(bytes)}` } });
    await postFaults({ dropUpload: true, count: 1, path: "upload" });
    const err = await outcome(send());
    expect(err).toBeInstanceOf(TypeError);
    // The client may see the reset before the server has finished counting it.
    await waitFor(async () => s.stats().requests["POST /api/storage/upload "]?.dropped === 1, { what: "the dropped upload is counted" });
    expect(s.stats().blobs.count).toBe(0);
    expect(s.stats().requests["POST /api/storage/upload "]).toEqual({ dropped: 1 });
    const ok = await send();
    expect(ok.status).toBe(200);
    expect(s.stats().blobs).toEqual({ count: 1, bytes: bytes.length });
  });

  test("StandinServer › a duration fault ends by itself, and DELETE clears every fault", async () => {
    s.setFaults({ status: 503, durationMs: 1000, path: "sync:handshake" });
    expect(await outcome(handshake())).toBeInstanceOf(Error);
    await waitFor(async () => (await outcome(handshake())) === "ok", { what: "the duration fault ends" });

    await postFaults([{ status: 500 }, { latencyMs: 5 }]);
    expect(await outcome(handshake())).toBeInstanceOf(Error);
    expect(((await (await fetch(`${s.url}/_standin/faults`)).json()) as unknown[]).length).toBe(2);
    expect((await fetch(`${s.url}/_standin/faults`, { method: "DELETE" })).status).toBe(200);
    expect(await outcome(handshake())).toBe("ok");
  });

  test("StandinServer › a malformed fault spec is refused with 400", async () => {
    for (const bad of [{ status: 418 }, { count: 3 }, { refuse: true, color: "red" }]) {
      const res = await postFaults(bad as FaultSpec);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("BadFaultSpec");
    }
    expect(() => s.setFaults({ latencyMs: -1 })).toThrow();
  });

  test("StandinServer › the --latency-ms option delays every API request but not the control API", async () => {
    const slow = await startStandin({ token: TOKEN, latencyMs: 120 });
    try {
      const c = new ConvexHttpClient(slow.url, { logger: false });
      const t0 = performance.now();
      await c.query(api.sync.handshake, { serviceToken: TOKEN });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
      expect(slow.stats().functionCalls["sync:handshake"]).toBe(1);
    } finally {
      await slow.stop();
    }
  });
});

describe("StandinServer › paused deployment", () => {
  test("StandinServer › paused: functions answer a data-less Server Error, uploads and downloads 400 BackendIsNotRunning, until cleared", async () => {
    const uploadUrl = (await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN })) as string;
    expect((await postFaults({ paused: true })).status).toBe(200);

    const raw = await fetch(`${s.url}/api/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path: "sync:handshake", format: "convex_encoded_json", args: [{ serviceToken: TOKEN }] }),
    });
    expect(raw.status).toBe(200);
    const body = (await raw.json()) as Record<string, unknown>;
    expect(body.status).toBe("error");
    expect(body.errorMessage).toMatch(/^\[Request ID: [0-9a-f]+\] Server Error$/);
    expect(body).not.toHaveProperty("errorData");
    // The official client turns it into a plain Error with nothing but that text.
    const err = await outcome(handshake());
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).constructor).toBe(Error);

    const up = await fetch(uploadUrl, { method: "POST", headers: { "Content-Type": "image/png" }, body: new Uint8Array([1, 2, 3]) });
    expect(up.status).toBe(400);
    expect(((await up.json()) as { code: string }).code).toBe("BackendIsNotRunning");
    const down = await fetch(`${s.url}/api/storage/00000000-0000-4000-8000-000000000000`);
    expect(down.status).toBe(400);

    await fetch(`${s.url}/_standin/faults`, { method: "DELETE" });
    expect(await outcome(handshake())).toBe("ok");
  });
});

describe("StandinServer › a deployment under load", () => {
  const rawMutation = (path: string, args: Record<string, unknown>) =>
    fetch(`${s.url}/api/mutation`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path, args: [args], format: "json" }),
    });
  const rawQuery = (path: string, args: Record<string, unknown>) =>
    fetch(`${s.url}/api/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path, args: [args], format: "json" }),
    });

  test("StandinServer › occ answers mutations 503 OptimisticConcurrencyControlFailure, never queries; nothing runs", async () => {
    s.setFaults({ occ: true, count: 1 });
    const q = await rawQuery("sync:handshake", { serviceToken: TOKEN });
    expect(q.status).toBe(200);
    const m = await rawMutation("jobs:upsert", { serviceToken: TOKEN, ...jobRecord("job-occ") });
    expect(m.status).toBe(503);
    expect(await m.json()).toMatchObject({
      code: "OptimisticConcurrencyControlFailure",
      message: expect.stringContaining("changed while it was being run"),
    });
    expect(s.stats().documents.jobs).toBe(0);
    expect((await rawMutation("jobs:upsert", { serviceToken: TOKEN, ...jobRecord("job-occ") })).status).toBe(200);
  });

  test("StandinServer › probability applies a fault to about that share of matching calls", async () => {
    s.setFaults({ occ: true, probability: 0.5 });
    let refused = 0;
    for (let i = 0; i < 60; i++) if ((await rawMutation("assets:generateUploadUrl", { serviceToken: TOKEN })).status === 503) refused++;
    expect(refused).toBeGreaterThan(10);
    expect(refused).toBeLessThan(50);
  });

  test("StandinServer › past the function concurrency limit a call waits, then gets 429 TooManyConcurrentRequests without Retry-After", async () => {
    s.setFunctionConcurrency({ limit: 1, waitMs: 50 });
    try {
      // A slow mutation holds the only mutation slot for 300 ms; the next waits 50 ms for it.
      s.setFaults({ latencyMs: 300, path: "assets:generateUploadUrls", count: 1 });
      const slow = rawMutation("assets:generateUploadUrls", { serviceToken: TOKEN, count: 1 });
      // The slow call has taken its latency fault, which it spends holding the slot.
      await waitFor(async () => ((await (await fetch(`${s.url}/_standin/faults`)).json()) as unknown[]).length === 0, {
        intervalMs: 5,
        what: "the slow mutation holding the slot",
      });
      const many = await Promise.all([
        slow,
        ...Array.from({ length: 3 }, () => rawMutation("assets:generateUploadUrl", { serviceToken: TOKEN })),
      ]);
      expect(many[0]!.status).toBe(200);
      const refused = many.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.headers.get("retry-after")).toBeNull();
      expect(await refused[0]!.json()).toMatchObject({
        code: "TooManyConcurrentRequests",
        message: expect.stringContaining("limited to 1 concurrent mutations"),
      });
      // Queries have their own slots.
      expect((await rawQuery("sync:handshake", { serviceToken: TOKEN })).status).toBe(200);
    } finally {
      s.setFunctionConcurrency(null);
    }
  });
});

describe("StandinServer › write throughput and the query cache", () => {
  const rawMutation = (path: string, args: Record<string, unknown>) =>
    fetch(`${s.url}/api/mutation`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path, args: [args], format: "json" }),
    });

  test("StandinServer › past the write-throughput limit a mutation is refused 429 TooManyWrites before it runs; queries still run", async () => {
    s.setWriteLimit({ bytesPerWindow: 2000, windowMs: 60_000 });
    try {
      const big = (id: string) => rawMutation("jobs:upsert", { serviceToken: TOKEN, ...jobRecord(id, { prompt: "p".repeat(3000) }) });
      expect((await big("w1")).status).toBe(200);
      const refused = await big("w2");
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ code: "TooManyWrites" });
      expect(s.stats().documents.jobs).toBe(1);
      expect(await outcome(handshake())).toBe("ok");
    } finally {
      s.setWriteLimit(null);
    }
  });

  test("StandinServer › the query cache serves the same arguments a stale clock until a write; other arguments are fresh", async () => {
    s.setQueryCache(60_000);
    try {
      const first = await client.query(api.sync.handshake, { serviceToken: TOKEN, clientTimeMs: 1 });
      await waitFor(() => Date.now() > first.serverTimeMs, { intervalMs: 1, what: "the clock past the first answer's" });
      const again = await client.query(api.sync.handshake, { serviceToken: TOKEN, clientTimeMs: 1 });
      expect(again.serverTimeMs).toBe(first.serverTimeMs);
      const fresh = await client.query(api.sync.handshake, { serviceToken: TOKEN, clientTimeMs: 2 });
      expect(fresh.serverTimeMs).toBeGreaterThan(first.serverTimeMs);
      expect((await client.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: ["job-q"] }))[0]).toBeNull();
      await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...jobRecord("job-q") });
      // The write dropped the cached state read.
      expect((await client.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: ["job-q"] }))[0]).not.toBeNull();
    } finally {
      s.setQueryCache(null);
    }
  });
});
