/**
 * The stand-in through the official `ConvexHttpClient` and plain fetch: the wire protocol,
 * storage, limits, the control API. Fault injection has its own file.
 */
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { createHash, randomBytes } from "node:crypto";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import type { Id } from "../../convex/_generated/dataModel.js";
import { parsePublicComponent } from "../../src/remote/publicComponent.js";
import { startStandin, type Standin, type StandinStats } from "./StandinServer.js";
import { commitRecord, jobRecord, rawCall, sha256Base64, TOKEN } from "./standinTestKit.js";

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

async function upload(url: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, { method: "POST", body: bytes, headers: { "Content-Type": "image/png", ...headers } });
}

async function uploadBlob(bytes: Uint8Array, contentType = "image/png"): Promise<Id<"_storage">> {
  const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
  const res = await upload(url, bytes, { "Content-Type": contentType, Digest: `sha-256=${sha256Base64(bytes)}` });
  expect(res.status).toBe(200);
  return ((await res.json()) as { storageId: Id<"_storage"> }).storageId;
}

async function controlStats(): Promise<StandinStats> {
  return (await (await fetch(`${s.url}/_standin/stats`)).json()) as StandinStats;
}

async function caught(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

describe("StandinServer › wire protocol", () => {
  test("StandinServer › the official client accepts the stand-in's http://127.0.0.1 URL without options", async () => {
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    const c = new ConvexHttpClient(s.url);
    const hello = await c.query(api.sync.handshake, { serviceToken: TOKEN });
    expect(hello.apiVersion).toBeGreaterThanOrEqual(1);
  });

  test("StandinServer › runs the seed flow end to end: upsert, upload URL, raw upload, save, public read", async () => {
    const files = {
      "ivy.png": { bytes: randomBytes(20_000), type: "image/png", role: "output_png" as const },
      "ivy_debug.png": { bytes: randomBytes(3_000), type: "image/png", role: "debug_png" as const },
      "ivy_mask.png": { bytes: randomBytes(0), type: "image/png", role: "mask_png" as const },
    };
    const record = jobRecord("job-seed", {}, Object.keys(files));
    expect(await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record })).toEqual({ outcome: "created" });

    for (const [filename, f] of Object.entries(files)) {
      const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
      expect(url.startsWith(`${s.url}/api/storage/upload?token=`)).toBe(true);
      const res = await upload(url, f.bytes, { "Content-Type": f.type, Digest: `sha-256=${sha256Base64(f.bytes)}` });
      expect(res.status).toBe(200);
      const { storageId } = (await res.json()) as { storageId: Id<"_storage"> };
      const saved = await client.mutation(api.assets.save, {
        serviceToken: TOKEN,
        jobId: record.jobId,
        role: f.role,
        filename,
        storageId,
        contentType: f.type,
        bytes: f.bytes.length,
      });
      expect(saved).toBe("asset_saved");
    }

    const pub = await client.query(api.jobs.getPublic, { jobId: record.jobId });
    expect(pub).not.toBeNull();
    expect(Object.keys(pub!)).not.toContain("internalAssetType");
    const assets = parsePublicComponent(pub!.component)!.assets as Record<string, string>;
    expect(Object.keys(assets).sort()).toEqual(Object.keys(files).sort());
    for (const [filename, f] of Object.entries(files)) {
      const url = assets[filename]!;
      expect(url.startsWith(`${s.url}/api/storage/`)).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(f.type);
      expect(res.headers.get("content-length")).toBe(String(f.bytes.length));
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect(res.headers.get("digest")).toBe(`sha-256=${sha256Base64(f.bytes)}`);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(sha256Base64(body)).toBe(sha256Base64(f.bytes));
    }
  });

  test("StandinServer › NaN, ±Infinity and -0 survive the round trip through the wire", async () => {
    const manifest = { nan: NaN, inf: Infinity, ninf: -Infinity, negZero: -0, plain: 1.5 };
    const record = jobRecord("job-floats", { component: { manifest } });
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    const pub = await client.query(api.jobs.getPublic, { jobId: record.jobId });
    const back = parsePublicComponent(pub!.component)!.manifest as typeof manifest;
    expect(Number.isNaN(back.nan)).toBe(true);
    expect(back.inf).toBe(Infinity);
    expect(back.ninf).toBe(-Infinity);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect(back.plain).toBe(1.5);

    const raw = await rawCall(
      s.url,
      "query",
      JSON.stringify({ path: "jobs:getPublic", format: "convex_encoded_json", args: [{ jobId: record.jobId }] }),
    );
    // The object went over the wire as $float values; the public view serves job.json's dialect.
    const text = (raw.body as { value: { component: string } }).value.component;
    for (const literal of ['"nan": NaN', '"inf": Infinity', '"ninf": -Infinity', '"negZero": -0.0']) expect(text).toContain(literal);
  });

  test("StandinServer › accepts args as a bare object as well as the client's one-element array", async () => {
    const bare = await rawCall(s.url, "query", JSON.stringify({ path: "sync:handshake", args: { serviceToken: TOKEN } }));
    expect(bare.status).toBe(200);
    expect(bare.body.status).toBe("success");
    expect(bare.body.logLines).toEqual([]);
    const wrapped = await rawCall(
      s.url,
      "query",
      JSON.stringify({ path: "sync.js:handshake", format: "convex_encoded_json", args: [{ serviceToken: TOKEN }] }),
    );
    expect(wrapped.body.status).toBe("success");
  });

  test("StandinServer › refuses every token-checked function without or with a wrong token (ConvexError UNAUTHORIZED)", async () => {
    const blob = await uploadBlob(randomBytes(10));
    const record = jobRecord("job-auth");
    const asset = {
      role: "output_png" as const,
      filename: "ivy.png",
      storageId: blob,
      contentType: "image/png",
      bytes: 10,
      sha256: "x",
      sourceMtimeMs: 1,
    };
    const before = s.stats().documents;
    for (const serviceToken of ["wrong-token", "", undefined]) {
      // Thunks: each call starts only when awaited, so no rejection goes unhandled.
      const calls: Array<() => Promise<unknown>> = [
        () => client.mutation(api.jobs.upsert, { serviceToken, ...record }),
        () => client.mutation(api.assets.generateUploadUrl, { serviceToken }),
        () => client.mutation(api.assets.generateUploadUrls, { serviceToken, count: 2 }),
        () => client.mutation(api.assets.save, { serviceToken, jobId: record.jobId, ...asset }),
        () => client.mutation(api.sync.commit, { serviceToken, job: commitRecord(record.jobId), recordHash: "h", assets: [asset] }),
        () => client.mutation(api.gc.collectNow, { serviceToken, graceMs: 0 }),
        () => client.query(api.sync.handshake, { serviceToken }),
        () => client.query(api.sync.getStates, { serviceToken, jobIds: [record.jobId] }),
      ];
      for (const call of calls) {
        const err = await caught(call());
        expect(err).toBeInstanceOf(ConvexError);
        expect(err instanceof ConvexError && (err.data as { code: string }).code === "UNAUTHORIZED").toBe(true);
      }
    }
    expect(s.stats().documents).toEqual(before);
    expect(s.stats().blobs.count).toBe(1);
  });

  test("StandinServer › unknown, internal and wrong-kind functions are function errors, not HTTP errors", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["query", "sync:nope", /Could not find public function for 'sync:nope'/],
      ["query", "nomodule:fn", /Could not find public function/],
      ["mutation", "gc:collect", /Could not find public function for 'gc:collect'/],
      ["mutation", "sync:getStates", /as Mutation, but it is defined as Query/],
      ["query", "jobs:upsert", /as Query, but it is defined as Mutation/],
      ["action", "sync:handshake", /as Action, but it is defined as Query/],
    ];
    for (const [route, path, message] of cases) {
      const raw = await rawCall(s.url, route, JSON.stringify({ path, format: "convex_encoded_json", args: [{}] }));
      expect(raw.status).toBe(200);
      expect(raw.body.status).toBe("error");
      expect(raw.body.errorMessage).toMatch(/^\[Request ID: [0-9a-f]+\] Server Error\n/);
      expect(raw.body.errorMessage).toMatch(message);
      expect(raw.body.errorData).toBeUndefined();
    }
    // The client turns them into plain Errors (no ConvexError data).
    const err = await caught(client.mutation(internal.gc.collect as never, { graceMs: 0 } as never));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ConvexError);
    expect(s.stats().functionErrors["gc:collect"]).toEqual({ Error: 2 });
  });

  test("StandinServer › argument validation failures are function errors and write nothing", async () => {
    const raw = await rawCall(s.url, "mutation", JSON.stringify({ path: "jobs:upsert", args: [{ serviceToken: TOKEN, jobId: 42 }] }));
    expect(raw.status).toBe(200);
    expect(raw.body.status).toBe("error");
    expect(s.stats().documents.jobs).toBe(0);
  });

  test("StandinServer › bad JSON, a body without a path and an unknown route are transport errors", async () => {
    const bad = await rawCall(s.url, "mutation", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("BadJsonBody");
    const noPath = await rawCall(s.url, "query", JSON.stringify({ args: {} }));
    expect(noPath.status).toBe(400);
    expect(noPath.body.code).toBe("BadJsonBody");
    const unknown = await fetch(`${s.url}/api/nothing-here`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("NotFound");
    // What the client does with a transport error: a plain Error carrying the raw body.
    const c = new ConvexHttpClient(`${s.url}/nope`, { logger: false });
    const err = await caught(c.query(api.sync.handshake, { serviceToken: TOKEN }));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("NotFound");
  });

  test("StandinServer › a body over 16 MiB is refused with 400 BadJsonBody", async () => {
    const big = JSON.stringify({ path: "jobs:upsert", args: [{ serviceToken: TOKEN, prompt: "x".repeat(16 * 1024 * 1024) }] });
    const raw = await rawCall(s.url, "mutation", big);
    expect(raw.status).toBe(400);
    expect(raw.body.code).toBe("BadJsonBody");
    expect(s.stats().functionCalls["jobs:upsert"]).toBeUndefined();
  });
});

describe("StandinServer › limits", () => {
  function nested(levels: number): unknown {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
    return v;
  }

  test("StandinServer › arguments nested past 64 levels fail like Convex, 63 levels pass validation", async () => {
    const tooDeep = await rawCall(
      s.url,
      "query",
      JSON.stringify({ path: "sync:handshake", args: [{ serviceToken: TOKEN, x: nested(63) }] }),
    );
    expect(tooDeep.body.status).toBe("error");
    expect(tooDeep.body.errorMessage).toContain("Value is too nested (nested 65 levels deep > maximum nesting 64)");
    // 62 levels under the args object: the limit is not the problem, the unknown field is.
    const deepOk = await rawCall(
      s.url,
      "query",
      JSON.stringify({ path: "sync:handshake", args: [{ serviceToken: TOKEN, x: nested(62) }] }),
    );
    expect(deepOk.body.status).toBe("error");
    expect(deepOk.body.errorMessage).not.toContain("too nested");
    // A hostile nesting far past the limit still answers.
    const hostile = await rawCall(s.url, "query", `{"path":"sync:handshake","args":[{"x":${"[".repeat(50_000)}${"]".repeat(50_000)}}]}`);
    expect(hostile.body.errorMessage).toContain("Value is too nested");
  });

  test("StandinServer › arrays over 8192 elements and `$` field names in arguments are function errors", async () => {
    const longArray = await rawCall(
      s.url,
      "query",
      JSON.stringify({ path: "sync:getStates", args: [{ serviceToken: TOKEN, jobIds: Array(8193).fill("j") }] }),
    );
    expect(longArray.body.status).toBe("error");
    expect(longArray.body.errorMessage).toContain("Array length is too long (8193 > maximum length 8192)");
    const dollar = await rawCall(s.url, "query", JSON.stringify({ path: "sync:handshake", args: [{ serviceToken: TOKEN, $bad: 1 }] }));
    expect(dollar.body.status).toBe("error");
    expect(dollar.body.errorMessage).toContain("starts with a '$'");
    const nonAscii = await rawCall(s.url, "query", JSON.stringify({ path: "sync:handshake", args: [{ serviceToken: TOKEN, é: 1 }] }));
    expect(nonAscii.body.status).toBe("error");
    expect(nonAscii.body.errorMessage).toContain("invalid character");
  });

  test("StandinServer › a write of a document over 1 MiB fails the mutation and rolls it back", async () => {
    const record = jobRecord("job-big");
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    const blob = await uploadBlob(randomBytes(10));
    const before = s.stats().documents;
    // assets:save stores the filename as is: a 1.1 MB filename makes an oversize row.
    const err = await caught(
      client.mutation(api.assets.save, {
        serviceToken: TOKEN,
        jobId: record.jobId,
        role: "output_png",
        filename: "x".repeat(1_100_000),
        storageId: blob,
        contentType: "image/png",
        bytes: 10,
      }),
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Value is too large \(1\.05 MiB > maximum size 1 MiB\)/);
    expect(s.stats().documents).toEqual(before);
  });
});

describe("StandinServer › storage", () => {
  test("StandinServer › an upload URL works several times and stores a new file each time", async () => {
    const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
    const bytes = randomBytes(100);
    const a = (await (await upload(url, bytes)).json()) as { storageId: string };
    const b = (await (await upload(url, bytes)).json()) as { storageId: string };
    expect(a.storageId).not.toBe(b.storageId);
    expect(s.stats().blobs).toEqual({ count: 2, bytes: 200 });
    expect(s.stats().uploads).toBe(2);
  });

  test("StandinServer › a Digest that does not match the body is refused with 400 Sha256Mismatch", async () => {
    const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
    const res = await upload(url, randomBytes(1000), { Digest: `sha-256=${sha256Base64(Buffer.from("other"))}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("Sha256Mismatch");
    expect(s.stats().blobs.count).toBe(0);
  });

  test("StandinServer › a made-up upload token is 401 StorageTokenInvalid, an expired one 401 StorageTokenExpired, as the backend's keybroker says", async () => {
    const unknown = await upload(`${s.url}/api/storage/upload?token=made-up`, randomBytes(10));
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { code: string }).code).toBe("StorageTokenInvalid");

    const short = await startStandin({ token: TOKEN, uploadUrlTtlMs: 0 });
    try {
      const c = new ConvexHttpClient(short.url, { logger: false });
      const url = await c.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
      const expired = await upload(url, randomBytes(10));
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { code: string }).code).toBe("StorageTokenExpired");
      expect(short.stats().blobs.count).toBe(0);
    } finally {
      await short.stop();
    }
  });

  test("StandinServer › a Digest header that is not exactly sha-256=<base64 of 32 bytes> is 400 BadHeader, and nothing is stored", async () => {
    const url = await client.mutation(api.assets.generateUploadUrl, { serviceToken: TOKEN });
    const bytes = randomBytes(100);
    for (const header of [
      `SHA-256=${sha256Base64(bytes)}`,
      `sha-256=${createHash("sha256").update(bytes).digest("hex")}`,
      "sha-256=",
      `md5=x, sha-256=${sha256Base64(bytes)}`,
    ]) {
      const res = await upload(url, bytes, { Digest: header });
      expect(res.status, header).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("BadHeader");
    }
    expect(s.stats().blobs.count).toBe(0);
    expect((await upload(url, bytes, { Digest: `sha-256=${sha256Base64(bytes)}` })).status).toBe(200);
  });

  test("StandinServer › serves single ranges with 206, refuses unsatisfiable ones with 416, answers HEAD", async () => {
    const bytes = randomBytes(1000);
    const record = jobRecord("job-range", {}, ["a.png"]);
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    const storageId = await uploadBlob(bytes);
    await client.mutation(api.assets.save, {
      serviceToken: TOKEN,
      jobId: record.jobId,
      role: "output_png",
      filename: "a.png",
      storageId,
      contentType: "image/png",
      bytes: 1000,
    });
    const url = (
      parsePublicComponent((await client.query(api.jobs.getPublic, { jobId: record.jobId }))!.component)!.assets as Record<string, string>
    )["a.png"]!;

    const mid = await fetch(url, { headers: { Range: "bytes=100-199" } });
    expect(mid.status).toBe(206);
    expect(mid.headers.get("content-range")).toBe("bytes 100-199/1000");
    expect(mid.headers.get("content-length")).toBe("100");
    expect(Buffer.from(await mid.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const open = await fetch(url, { headers: { Range: "bytes=990-" } });
    expect(open.status).toBe(206);
    expect(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(990))).toBe(true);

    const suffix = await fetch(url, { headers: { Range: "bytes=-5" } });
    expect(suffix.headers.get("content-range")).toBe("bytes 995-999/1000");
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(995))).toBe(true);

    const past = await fetch(url, { headers: { Range: "bytes=1000-" } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe("bytes */1000");

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("1000");
  });

  test("StandinServer › each file has its own URL, and a deleted file's URL answers 404", async () => {
    const same = randomBytes(50);
    const record = jobRecord("job-urls", {}, ["a.png", "b.png"]);
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    for (const filename of ["a.png", "b.png"]) {
      const storageId = await uploadBlob(same);
      await client.mutation(api.assets.save, {
        serviceToken: TOKEN,
        jobId: record.jobId,
        role: "output_png",
        filename,
        storageId,
        contentType: "image/png",
        bytes: 50,
      });
    }
    const urls = async () =>
      parsePublicComponent((await client.query(api.jobs.getPublic, { jobId: record.jobId }))!.component)!.assets as Record<string, string>;
    const before = await urls();
    expect(before["a.png"]).not.toBe(before["b.png"]);

    // Replacing a.png deletes its old blob; identical bytes elsewhere do not keep the URL alive.
    const replacement = await uploadBlob(randomBytes(60));
    await client.mutation(api.assets.save, {
      serviceToken: TOKEN,
      jobId: record.jobId,
      role: "output_png",
      filename: "a.png",
      storageId: replacement,
      contentType: "image/png",
      bytes: 60,
    });
    expect((await fetch(before["a.png"]!)).status).toBe(404);
    expect((await fetch(before["b.png"]!)).status).toBe(200);
    expect((await fetch((await urls())["a.png"]!)).status).toBe(200);
    expect((await fetch(`${s.url}/api/storage/not-a-key`)).status).toBe(404);
  });
});

describe("StandinServer › control API", () => {
  test("StandinServer › stats count requests by route, function calls, documents, blobs and uploads", async () => {
    const record = jobRecord("job-stats");
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    await client.query(api.sync.getStates, { serviceToken: TOKEN, jobIds: [record.jobId] });
    await caught(client.query(api.sync.getStates, { serviceToken: "bad", jobIds: [] }));
    await uploadBlob(randomBytes(123));
    await fetch(`${s.url}/api/storage/unknown`);

    const stats = await controlStats();
    expect(stats).toEqual(s.stats());
    expect(stats.requests["POST /api/mutation jobs:upsert"]).toEqual({ "200": 1 });
    expect(stats.requests["POST /api/query sync:getStates"]).toEqual({ "200": 2 });
    expect(stats.requests["POST /api/storage/upload "]).toEqual({ "200": 1 });
    expect(stats.requests["GET /api/storage/{key} "]).toEqual({ "404": 1 });
    expect(stats.functionCalls).toEqual({ "jobs:upsert": 1, "sync:getStates": 2, "assets:generateUploadUrl": 1 });
    expect(stats.functionErrors).toEqual({ "sync:getStates": { UNAUTHORIZED: 1 } });
    // Events: the job's first stage and the upsert's own `created`.
    expect(stats.documents).toEqual({ jobs: 1, jobAssets: 0, jobEvents: 2, jobSyncStates: 1, syncMeta: 0 });
    expect(stats.blobs).toEqual({ count: 1, bytes: 123 });
    expect(stats.uploads).toBe(1);
  });

  test("StandinServer › commits lists successful sync:commit and jobs:upsert calls with their outcome", async () => {
    const t0 = Date.now();
    const a = commitRecord("job-c1");
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...jobRecord("job-c1") });
    await client.mutation(api.sync.commit, { serviceToken: TOKEN, job: a, recordHash: "h1", assets: [] });
    await client.mutation(api.sync.commit, { serviceToken: TOKEN, job: a, recordHash: "h1", assets: [] });
    const older = commitRecord("job-c1", { updatedAtIso: "2026-11-20T14:03:11.000000+00:00" });
    await client.mutation(api.sync.commit, { serviceToken: TOKEN, job: older, recordHash: "h0", assets: [] });
    await caught(client.mutation(api.sync.commit, { serviceToken: "bad", job: a, recordHash: "h1", assets: [] }));

    const commits = (await (await fetch(`${s.url}/_standin/commits`)).json()) as Array<Record<string, unknown>>;
    expect(commits.map((c) => [c.jobId, c.updatedAt, c.outcome])).toEqual([
      // The plan-style upsert's epoch ms, read back at millisecond precision.
      ["job-c1", "2026-11-20T14:03:41.377000+00:00", "created"],
      ["job-c1", a.updatedAtIso, "updated"],
      ["job-c1", a.updatedAtIso, "unchanged"],
      ["job-c1", older.updatedAtIso, "stale"],
    ]);
    for (const c of commits) expect(c.atMs).toBeGreaterThanOrEqual(t0);
    const later = (await (await fetch(`${s.url}/_standin/commits?since=${Date.now() + 60_000}`)).json()) as unknown[];
    expect(later).toEqual([]);
  });

  test("StandinServer › reset clears data, blobs, stats and faults", async () => {
    const record = jobRecord("job-reset", {}, ["a.png"]);
    await client.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...record });
    const storageId = await uploadBlob(randomBytes(10));
    await client.mutation(api.assets.save, {
      serviceToken: TOKEN,
      jobId: record.jobId,
      role: "output_png",
      filename: "a.png",
      storageId,
      contentType: "image/png",
      bytes: 10,
    });
    const url = (
      parsePublicComponent((await client.query(api.jobs.getPublic, { jobId: record.jobId }))!.component)!.assets as Record<string, string>
    )["a.png"]!;
    await fetch(`${s.url}/_standin/faults`, { method: "POST", body: JSON.stringify({ status: 503, path: "sync:handshake" }) });

    expect((await fetch(`${s.url}/_standin/reset`, { method: "POST" })).status).toBe(200);
    const stats = s.stats();
    expect(stats.documents).toEqual({ jobs: 0, jobAssets: 0, jobEvents: 0, jobSyncStates: 0, syncMeta: 0 });
    expect(stats.blobs).toEqual({ count: 0, bytes: 0 });
    expect(stats.uploads).toBe(0);
    expect(stats.requests).toEqual({});
    expect(s.commits()).toEqual([]);
    expect(await client.query(api.jobs.getPublic, { jobId: record.jobId })).toBeNull();
    expect((await fetch(url)).status).toBe(404);
    expect(await client.query(api.sync.handshake, { serviceToken: TOKEN })).toMatchObject({ apiVersion: API_VERSION });
  });

  test("StandinServer › gc collects uploads that no asset row references, over HTTP and in process", async () => {
    await uploadBlob(randomBytes(10));
    await uploadBlob(randomBytes(20));
    const res = await fetch(`${s.url}/_standin/gc`, { method: "POST", body: JSON.stringify({ graceMs: 0 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ scanned: 2, deleted: 2, more: false });
    expect(s.stats().blobs.count).toBe(0);
    await uploadBlob(randomBytes(5));
    expect(await s.runGc(60 * 60 * 1000)).toEqual({ scanned: 0, deleted: 0, more: false });
    expect(s.stats().blobs.count).toBe(1);
    const bad = await fetch(`${s.url}/_standin/gc`, { method: "POST", body: JSON.stringify({ graceMs: "soon" }) });
    expect(bad.status).toBe(400);
  });
});
