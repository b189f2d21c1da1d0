/**
 * Every registered function under convex/ is found by importing the modules, not by a list
 * written here: a function added later without a fixture below fails this suite, so nothing
 * can slip past the token check unnoticed. Each token-checked function is called with a
 * missing, an empty and a wrong token (UNAUTHORIZED, nothing written) and with no token
 * configured in the deployment (TOKEN_NOT_CONFIGURED); a positive control with the right token
 * proves the fixture arguments are valid, so the refusals are the token's doing.
 */
import { componentFilenames } from "../../convex/lib/jobStore.js";
import { makeFunctionReference } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import {
  assetFor,
  type ConvexHarness,
  expectConvexError,
  loadSample,
  modules,
  newConvexTest,
  planShapeOf,
  snapshotTables,
  storeBlob,
  TOKEN,
  useFixedClock,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

useFixedClock();

type Kind = "query" | "mutation" | "action" | "httpAction";
type Discovered = { name: string; kind: Kind; visibility: "public" | "internal"; args: unknown };

/** The one function anyone may call. */
const PUBLIC_READS = ["jobs:getPublic"];
/**
 * Functions only other functions (crons) or a deploy key (`npx convex run`) can call; never
 * reachable from outside: the collector and the migrations (convex/migrations.ts).
 */
const INTERNAL = ["gc:collect", "migrations:fillAssetHashes", "migrations:fillJobSyncState", "migrations:run", "migrations:runAll"];

type Fixture = {
  /** Minimally valid arguments, without the token. May write set-up data first. */
  args: (t: ConvexHarness) => Promise<Record<string, unknown>>;
  /** Whether a successful call writes: then the positive control must see a change. */
  writes: boolean;
};

const succeeded = loadSample("04-succeeded.job.json");
const queued = loadSample("01-queued.job.json");

const FIXTURES: Record<string, Fixture> = {
  "jobs:upsert": {
    args: async () => planShapeOf(queued.job),
    writes: true,
  },
  "assets:generateUploadUrl": { args: async () => ({}), writes: false },
  "assets:generateUploadUrls": { args: async () => ({ count: 2 }), writes: false },
  "assets:save": {
    args: async (t) => ({ jobId: queued.job.jobId, ...assetFor("a.png", await storeBlob(t, "a")) }),
    writes: true,
  },
  "sync:handshake": { args: async () => ({}), writes: false },
  "sync:timeline": { args: async () => ({ jobId: queued.job.jobId }), writes: false },
  "sync:getRecord": { args: async () => ({ jobId: queued.job.jobId }), writes: false },
  "sync:getStates": { args: async () => ({ jobIds: [queued.job.jobId] }), writes: false },
  "sync:commit": {
    args: async (t) => {
      const filenames = componentFilenames(succeeded.job);
      const assets = [];
      for (const f of filenames) assets.push(assetFor(f, await storeBlob(t, f)));
      return { job: succeeded.job, recordHash: succeeded.recordHash, assets };
    },
    writes: true,
  },
  "sync:commitMany": {
    args: async (t) => {
      const filenames = componentFilenames(succeeded.job);
      const assets = [];
      for (const f of filenames) assets.push(assetFor(f, await storeBlob(t, f)));
      return { commits: [{ job: succeeded.job, recordHash: succeeded.recordHash, assets }] };
    },
    writes: true,
  },
  "gc:collectNow": {
    // An orphan a second old and a zero grace period: a successful run deletes it.
    args: async (t) => {
      await storeBlob(t, "orphan");
      vi.setSystemTime(Date.now() + 1000);
      return { graceMs: 0 };
    },
    writes: true,
  },
};

function moduleName(path: string): string | null {
  const m = /^\.\.\/\.\.\/convex\/(.+)\.ts$/.exec(path);
  if (!m || m[1]!.startsWith("_generated/") || m[1]!.startsWith("lib/") || m[1]!.endsWith(".d")) return null;
  return m[1]!;
}

async function discoverFunctions(): Promise<Discovered[]> {
  const found: Discovered[] = [];
  for (const [path, load] of Object.entries(modules)) {
    const mod = moduleName(path);
    if (mod === null) continue;
    const exports = (await load()) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(exports)) {
      if (value === null || (typeof value !== "function" && typeof value !== "object")) continue;
      const f = value as Record<string, unknown>;
      const kind: Kind | null = f.isQuery ? "query" : f.isMutation ? "mutation" : f.isAction ? "action" : f.isHttp ? "httpAction" : null;
      if (kind === null) continue;
      const visibility = f.isInternal ? "internal" : "public";
      const args = typeof f.exportArgs === "function" ? JSON.parse((f.exportArgs as () => string)()) : null;
      found.push({ name: `${mod}:${exportName === "default" ? "default" : exportName}`, kind, visibility, args });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

const discovered = await discoverFunctions();
const tokenChecked = discovered.filter((f) => f.visibility === "public" && !PUBLIC_READS.includes(f.name));

async function call(t: ConvexHarness, f: Discovered, args: Record<string, unknown>): Promise<unknown> {
  if (f.kind === "query") return await t.query(makeFunctionReference<"query">(f.name), args);
  if (f.kind === "mutation") return await t.mutation(makeFunctionReference<"mutation">(f.name), args);
  if (f.kind === "action") return await t.action(makeFunctionReference<"action">(f.name), args);
  throw new Error(`${f.name}: HTTP actions have no refusal test yet; write one before adding it`);
}

function fixtureOf(f: Discovered): Fixture {
  const fixture = FIXTURES[f.name];
  if (fixture === undefined) throw new Error(`${f.name} has no entry in FIXTURES: add one so its token check is tested`);
  return fixture;
}

describe("auth › discovery", () => {
  test("auth › finds the functions of every module (sanity check of the discovery itself)", () => {
    expect(discovered.map((f) => f.name)).toEqual(
      expect.arrayContaining(["jobs:upsert", "jobs:getPublic", "sync:commit", "gc:collect", "gc:collectNow"]),
    );
  });

  test("auth › every public function except the public read has a fixture, and no fixture is stale", () => {
    expect(tokenChecked.map((f) => f.name).sort()).toEqual(Object.keys(FIXTURES).sort());
  });

  test("auth › the internal functions are exactly the listed ones, and gc:collect is internal", () => {
    expect(discovered.filter((f) => f.visibility === "internal").map((f) => f.name)).toEqual(INTERNAL);
    expect(discovered.find((f) => f.name === "gc:collect")).toMatchObject({ kind: "mutation", visibility: "internal" });
  });

  test("auth › no HTTP action exists (each would need its own refusal test)", () => {
    expect(discovered.filter((f) => f.kind === "httpAction")).toEqual([]);
  });

  test("auth › jobs:getPublic is a public query that takes no token", () => {
    const getPublic = discovered.find((f) => f.name === "jobs:getPublic");
    expect(getPublic).toMatchObject({ kind: "query", visibility: "public" });
    expect(getPublic?.args).toEqual({ type: "object", value: { jobId: expect.any(Object) } });
  });

  test("auth › every token-checked function declares a serviceToken argument", () => {
    for (const f of tokenChecked) {
      expect((f.args as { value: Record<string, unknown> }).value, f.name).toHaveProperty("serviceToken");
    }
  });
});

const BAD_TOKENS: Array<[string, Record<string, unknown>]> = [
  ["without a token", {}],
  ["with an empty token", { serviceToken: "" }],
  ["with a wrong token", { serviceToken: `${TOKEN}-wrong` }],
  ["with the token's prefix", { serviceToken: TOKEN.slice(0, -1) }],
];

describe.each(tokenChecked.map((f) => [f.name, f] as const))("auth › %s", (_name, f) => {
  test(`auth › ${f.name} succeeds with the right token (positive control)`, async () => {
    const t = newConvexTest();
    const args = await fixtureOf(f).args(t);
    const before = await snapshotTables(t);
    await call(t, f, { ...args, serviceToken: TOKEN });
    const after = await snapshotTables(t);
    if (fixtureOf(f).writes) expect(after).not.toEqual(before);
    else expect(after).toEqual(before);
  });

  test.each(BAD_TOKENS)(`auth › ${f.name} refuses a call %s with UNAUTHORIZED and writes nothing`, async (_label, token) => {
    const t = newConvexTest();
    const args = await fixtureOf(f).args(t);
    const before = await snapshotTables(t);
    await expectConvexError(call(t, f, { ...args, ...token }), "UNAUTHORIZED");
    expect(await snapshotTables(t)).toEqual(before);
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
  ])(`auth › ${f.name} refuses with TOKEN_NOT_CONFIGURED when the deployment's token is %s`, async (_label, value) => {
    const t = newConvexTest();
    const args = await fixtureOf(f).args(t);
    const before = await snapshotTables(t);
    if (value === undefined) delete process.env.CELSTATE_SYNC_TOKEN;
    else process.env.CELSTATE_SYNC_TOKEN = value;
    // Even the token the daemon was given, and even an empty one, must not pass.
    const data = await expectConvexError(call(t, f, { ...args, serviceToken: TOKEN }), "TOKEN_NOT_CONFIGURED");
    expect(data.message).toContain("--prod");
    await expectConvexError(call(t, f, { ...args, serviceToken: "" }), "TOKEN_NOT_CONFIGURED");
    expect(await snapshotTables(t)).toEqual(before);
  });
});

describe("auth › the public read", () => {
  test("auth › jobs:getPublic answers without any token", async () => {
    const t = newConvexTest();
    delete process.env.CELSTATE_SYNC_TOKEN;
    expect(await t.query(makeFunctionReference<"query">("jobs:getPublic"), { jobId: queued.job.jobId })).toBeNull();
  });
});
