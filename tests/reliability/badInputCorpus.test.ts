/**
 * The bad-input corpus (`tests/fixtures/bad/`, one folder per case, see its README): every
 * case is laid out in one jobs folder next to good jobs, one backfill runs over all of them,
 * and each case is checked against its `case.json`: the outcome (synced, failed with a code,
 * pending, gone, not even listed), an error that names the job, the file and the reason, the
 * marker decision, and that a job.json that got no marker is still byte for byte what it was.
 * The good jobs sync regardless: one bad job never stops the queue. Then the real binary runs
 * the same corpus, to show the process itself survives it and reports it.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { cp, lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobResult } from "../../src/engine/SyncEngine.js";
import { runBackfill, type BackfillSummary } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import type { ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { type CaseHooks, GENERATORS } from "../fixtures/bad/generators.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { runCli } from "../helpers/runCli.js";
import { createHarness, download, type Harness } from "../helpers/syncHarness.js";
import { standinEnv, writeDaemonConfig } from "./reliabilityKit.js";

const CORPUS = new URL("../fixtures/bad/", import.meta.url).pathname;

type Expectation = {
  outcome: "synced" | "failed" | "pending" | "gone" | "not-listed";
  code?: string;
  /** Relative to the job folder; the error names it as `<folder>/<file>`. */
  file?: string;
  /** A regular expression the reason must match. */
  reason?: string;
  /** The marker decision: "written", "not written", or a prefix ("could not be written"). */
  marker?: string;
  public?: { status?: string; componentKey?: string; manifestKey?: string };
  publicTelemetry?: boolean;
  remoteAssets?: string[];
};

type Case = { name: string; title: string; folder: string; generator?: string; expect: Expectation };

/** Read once, synchronously, so that every case gets its own test. */
function loadCases(): Case[] {
  return readdirSync(CORPUS)
    .filter((n) => /^\d\d-/.test(n))
    .sort()
    .map((name) => ({ name, ...(JSON.parse(readFileSync(path.join(CORPUS, name, "case.json"), "utf8")) as Omit<Case, "name">) }));
}

const cases = loadCases();

type Snapshot = { bytes: Buffer; mtimeMs: number } | null;

async function snapshotJobJson(jobDir: string): Promise<Snapshot> {
  const file = path.join(jobDir, "job.json");
  const st = await lstat(file).catch(() => null);
  if (st === null || !st.isFile()) return null;
  return { bytes: await readFile(file), mtimeMs: st.mtimeMs };
}

/**
 * A gateway that lets cases act just before an upload (a job folder deleted mid-sync). It wraps
 * the stand-in's gateway, not FakeGateway: each case is checked against what the stand-in stored.
 */
function hookedGateway(inner: ConvexGateway, hooks: CaseHooks[]): ConvexGateway {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "upload") {
        return async (...args: Parameters<ConvexGateway["upload"]>) => {
          for (const h of hooks) await h.beforeUpload?.(args[1].sha256Hex);
          return await target.upload(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

let h: Harness;
let outsideDir: string;
let secret: Buffer;
let results: Map<string, JobResult>;
let summary: BackfillSummary;
let listed: string[];
const before = new Map<string, Snapshot>();
const good: PipelineJob[] = [];

/** Lays the corpus out in a jobs folder; returns the cases' hooks. */
async function layOut(jobsDir: string, outsideDir: string, secret: Buffer): Promise<CaseHooks[]> {
  const hooks: CaseHooks[] = [];
  for (const c of cases) {
    const jobDir = path.join(jobsDir, c.folder);
    const staticFiles = path.join(CORPUS, c.name, "job");
    if (await lstat(staticFiles).catch(() => null)) await cp(staticFiles, jobDir, { recursive: true });
    if (c.generator !== undefined) {
      const gen = GENERATORS[c.generator];
      if (gen === undefined) throw new Error(`${c.name}: no generator named ${c.generator} in generators.ts`);
      const hook = await gen({ jobsDir, folder: c.folder, jobDir, outsideDir, secret });
      if (hook) hooks.push(hook);
    }
  }
  return hooks;
}

beforeAll(async () => {
  h = await createHarness();
  outsideDir = await mkdtemp(path.join(tmpdir(), "celstate-outside-"));
  secret = randomBytes(32);
  const hooks = await layOut(h.jobsDir, outsideDir, secret);
  for (let i = 0; i < 3; i++) {
    const j = new PipelineJob(h.jobsDir, { pngBytes: 4_000 });
    await j.runToSuccess();
    good.push(j);
  }
  for (const c of cases) before.set(c.folder, await snapshotJobJson(path.join(h.jobsDir, c.folder)));
  listed = await listJobIds(h.jobsDir);
  const config = h.config({ settleMs: 0, settleWaitMs: 1_000, concurrency: 4 });
  const during = Promise.all(hooks.map((k) => k.during?.()));
  const run = await runBackfill({ config, gateway: hookedGateway(h.gateway(config), hooks), log: h.log, jobIds: listed });
  await during;
  results = run.results;
  summary = run.summary;
}, 120_000);

afterAll(async () => {
  await h.cleanup();
  await rm(outsideDir, { recursive: true, force: true });
});

describe("bad input corpus", () => {
  it("bad input corpus › has at least 30 cases, each with a valid case.json", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const c of cases) {
      expect(c.title, c.name).toBeTruthy();
      expect(["synced", "failed", "pending", "gone", "not-listed"], c.name).toContain(c.expect.outcome);
      if (c.expect.outcome === "failed") expect(c.expect.code && c.expect.file && c.expect.reason && c.expect.marker, c.name).toBeTruthy();
    }
  });

  it("bad input corpus › the README lists every case", async () => {
    const readme = await readFile(path.join(CORPUS, "README.md"), "utf8");
    for (const c of cases) expect(readme, c.name).toContain(`\`${c.name}\``);
  });

  it("bad input corpus › the run finishes and the good jobs sync next to every bad one", async () => {
    for (const j of good) {
      expect(results.get(j.id)?.status, j.id).toBe("synced");
      const pub = await h.getPublic(j.id);
      expect(pub?.status).toBe("succeeded");
    }
    // Everything listed got an answer: nothing was left behind by a crash of the queue.
    for (const id of listed) expect(results.has(id), id).toBe(true);
  });

  it("bad input corpus › no blob holds bytes from outside a job folder", async () => {
    for (const id of listed) {
      const pub = await h.getPublic(id);
      const assets = (pub?.component as { assets?: Record<string, string | null> } | null)?.assets ?? {};
      for (const url of Object.values(assets)) {
        if (typeof url !== "string") continue;
        const { bytes } = await download(url);
        expect(bytes.includes(secret), `${id}: ${url}`).toBe(false);
      }
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))("bad input corpus › %s", async (_name, c) => {
    const e = c.expect;
    const jobDir = path.join(h.jobsDir, c.folder);
    const r = results.get(c.folder);
    const where = `${c.name}: ${JSON.stringify(r)}`;
    if (e.outcome === "not-listed") {
      expect(listed, where).not.toContain(c.folder);
      expect(await h.getPublic(c.folder)).toBeNull();
      return;
    }
    expect(listed, where).toContain(c.folder);
    expect(r?.status, where).toBe(e.outcome);

    if (e.outcome === "failed" && r?.status === "failed") {
      expect(r.code, where).toBe(e.code);
      // The error names the job, the file and the reason.
      expect(r.detail, where).toContain(`job ${c.folder}`);
      expect(r.detail, where).toContain(`file ${c.folder}/${e.file}`);
      expect(r.detail, where).toMatch(new RegExp(e.reason!));
      expect(r.marker.startsWith(e.marker!), where).toBe(true);
      const fromSummary = summary.failed.find((f) => f.jobId === c.folder);
      expect(fromSummary?.reason).toBe(r.detail);
      // A marked job reads failed in public, exactly as job.json now says; an unmarked one
      // (its job.json could not be read) is not public at all.
      const pub = await h.getPublicRaw(c.folder);
      if (e.marker === "written") {
        const rec = (await readFile(path.join(jobDir, "job.json"), "utf8").then(parsePythonJson)) as Record<string, unknown>;
        expect(pub, where).toEqual({ jobId: c.folder, status: "failed", error: rec.error, component: null });
      } else expect(pub, where).toBeNull();
    }
    if (e.outcome === "pending") {
      const p = summary.pending.find((x) => x.jobId === c.folder);
      expect(p?.reason, where).toContain(`job ${c.folder}`);
      expect(p?.reason, where).toContain(`file ${c.folder}/${e.file}`);
      expect(p?.reason, where).toMatch(new RegExp(e.reason!));
    }

    // job.json: rewritten only to carry a marker; otherwise untouched, bytes and mtime.
    const was = before.get(c.folder) ?? null;
    const now = await snapshotJobJson(jobDir);
    if (e.marker === "written") {
      const rec = parsePythonJson((now?.bytes ?? Buffer.alloc(0)).toString("utf8")) as Record<string, unknown>;
      const marker = rec.sync_failure as Record<string, unknown>;
      expect(String(marker.reason), where).toContain(`[${e.code}]`);
      expect(marker.retryable).toBe(false);
      expect(rec.status).toBe("failed");
    } else if (was !== null && e.outcome !== "gone") {
      expect(now, where).not.toBeNull();
      expect(createHash("sha256").update(now!.bytes).digest("hex"), `${where}: bytes`).toBe(
        createHash("sha256").update(was.bytes).digest("hex"),
      );
      expect(now!.mtimeMs, `${where}: mtime`).toBe(was.mtimeMs);
    }

    if (e.outcome === "synced") {
      const pub = (await h.getPublic(c.folder)) as Record<string, unknown> | null;
      expect(pub, where).not.toBeNull();
      // The public view holds exactly the public keys, whatever extra keys job.json had.
      expect(Object.keys(pub!).sort(), where).toEqual(["component", "error", "jobId", "status"]);
      if (e.public?.status) expect(pub!.status).toBe(e.public.status);
      if (e.public?.componentKey) expect(Object.keys(pub!.component as object)).toContain(e.public.componentKey);
      if (e.public?.manifestKey) expect(Object.keys((pub!.component as { manifest: object }).manifest)).toContain(e.public.manifestKey);
      if (e.publicTelemetry) {
        const t = (pub!.component as { telemetry: Record<string, number> }).telemetry;
        expect(Number.isNaN(t.edge_noise)).toBe(true);
        expect(t.max_gradient).toBe(Number.POSITIVE_INFINITY);
        expect(t.min_gradient).toBe(Number.NEGATIVE_INFINITY);
        expect(Object.is(t.offset, -0)).toBe(true);
        expect(t.coverage).toBe(0.6412);
      }
      if (e.remoteAssets) {
        const assets = (pub!.component as { assets: Record<string, string> }).assets;
        expect(Object.keys(assets).sort()).toEqual([...e.remoteAssets].sort());
        expect(h.standin.stats().documents.jobAssets).toBeGreaterThan(0);
      }
    }
    if (e.outcome === "gone") {
      await expect(lstat(jobDir)).rejects.toThrow();
    }
  });
});

describe("bad input corpus (the binary)", () => {
  it("backfill › the CLI runs over the whole corpus without crashing, exits 1 and reports every failed case with its code", async () => {
    const h2 = await createHarness();
    const outside2 = await mkdtemp(path.join(tmpdir(), "celstate-outside-"));
    const cwd = await mkdtemp(path.join(tmpdir(), "celstate-corpus-cwd-"));
    try {
      // No hooks run here: the PNG finished "during" the run stays unfinished (pending), and
      // the folder deleted "mid-sync" stays (it syncs).
      await layOut(h2.jobsDir, outside2, randomBytes(32));
      await writeDaemonConfig(cwd, { settleMs: 0, settleWaitMs: 1_000 });
      const r = await runCli(["backfill", "--jobs-dir", h2.jobsDir, "--json", "--log-level", "error"], {
        env: standinEnv(h2),
        cwd,
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr.slice(0, 2000)).toBe(1);
      const s = JSON.parse(r.stdout) as BackfillSummary;
      const failedCases = cases.filter((c) => c.expect.outcome === "failed");
      expect(Object.fromEntries(s.failed.map((f) => [f.jobId, f.code]))).toEqual(
        Object.fromEntries(failedCases.map((c) => [c.folder, c.expect.code])),
      );
      const pendingCases = cases.filter((c) => c.expect.outcome === "pending" || c.generator === "pngStillBeingWritten");
      expect(s.pending.map((p) => p.jobId).sort()).toEqual(pendingCases.map((c) => c.folder).sort());
      expect(s.syncedNow).toBe(cases.filter((c) => c.expect.outcome === "synced" || c.expect.outcome === "gone").length - 1);
    } finally {
      await h2.cleanup();
      await rm(outside2, { recursive: true, force: true });
      await rm(cwd, { recursive: true, force: true });
    }
  }, 150_000);
});
