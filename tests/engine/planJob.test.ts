import { describe, expect, it } from "vitest";
import type { FileReadiness, Observation } from "../../src/engine/observeJob.js";
import { filesNeedingHash, type JobPlan, planJob, type PlanOptions } from "../../src/engine/planJob.js";
import type { JobSource } from "../../src/local/readJob.js";
import type { LocalFile, LocalJob } from "../../src/local/types.js";
import type { RemoteJobState } from "../../src/remote/ConvexGateway.js";
import { isoToMillis, microsToIso } from "../../convex/lib/time.js";

const T1 = "2026-11-20T14:03:41.377820+00:00";
const T0 = "2026-11-20T14:03:12.007311+00:00";
const T1us = Date.parse("2026-11-20T14:03:41.377Z") * 1000 + 820;

function file(filename: string, size: number, mtimeMs: number, role: LocalFile["role"] = "output_png"): LocalFile {
  const relPath = role === "trace_json" ? `trace/${filename}` : `outputs/${filename}`;
  return {
    role,
    filename,
    relPath,
    absPath: `/jobs/j/${relPath}`,
    size,
    mtimeMs,
    ino: 1,
    contentType: role === "trace_json" ? "application/json" : "image/png",
  };
}

function local(over: Partial<LocalJob> = {}): LocalJob {
  return {
    jobId: "j",
    dir: "/jobs/j",
    jobJson: { path: "/jobs/j/job.json", size: 10, mtimeMs: 1, ino: 1, text: "{}" },
    raw: {},
    record: {
      jobId: "j",
      status: "succeeded",
      internalAssetType: "icon",
      prompt: "p",
      createdAt: isoToMillis(T0)!,
      updatedAt: isoToMillis(T1)!,
      createdAtIso: T0,
      updatedAtIso: T1,
      componentJson: JSON.stringify({ assets: { "a.png": null, "a_debug.png": null } }),
      error: null,
    },
    recordHash: "h1",
    sourceHash: "source-h1",
    settled: true,
    marker: null,
    files: [file("a.png", 100, 1000), file("a_debug.png", 50, 1000, "debug_png")],
    listed: ["a.png", "a_debug.png"],
    ...over,
  };
}

function row(f: LocalFile, sha: string | null = `sha-${f.filename}`, storageId = `s-${f.filename}`) {
  return {
    role: f.role,
    filename: f.filename,
    storageId,
    contentType: f.contentType,
    bytes: f.size,
    sha256: sha,
    sourceMtimeMs: f.mtimeMs,
  };
}

function remote(l: LocalJob, over: Partial<RemoteJobState> = {}): RemoteJobState {
  return {
    jobId: l.jobId,
    updatedAtUs: T1us,
    recordHash: l.recordHash,
    sourceHash: l.sourceHash,
    status: l.record.status,
    assets: l.files.map((f) => row(f)) as RemoteJobState["assets"],
    ...over,
  };
}

const opts: PlanOptions = { checksum: false, prune: false, settleMs: 100 };

/** The planner reads job.json's bytes only through `storedCopyMatches`, never in `planJob`. */
const SOURCE = {} as unknown as JobSource;

/** One observation of `l` against `r`: these hashes known, these files still being written. */
function observed(
  l: LocalJob,
  r: RemoteJobState | null,
  hashes: ReadonlyMap<string, string>,
  notReady: ReadonlySet<string> = new Set(),
): Observation {
  const readiness = new Map<string, FileReadiness>();
  for (const [relPath, sha256] of hashes) readiness.set(relPath, { ready: true, sha256 });
  for (const relPath of notReady) readiness.set(relPath, { ready: false, reason: "still being written", afterMs: 40 });
  return { kind: "job", jobId: l.jobId, source: SOURCE, files: l.files, remote: r, local: l, readiness };
}

function plan(
  l: LocalJob,
  r: RemoteJobState | null,
  hashes: ReadonlyMap<string, string>,
  o: PlanOptions,
  notReady?: ReadonlySet<string>,
): JobPlan {
  return planJob(observed(l, r, hashes, notReady), o);
}
const hashesOf = (l: LocalJob, prefix = "sha-") => new Map(l.files.map((f) => [f.relPath, `${prefix}${f.filename}`]));

describe("planJob", () => {
  it("planJob › an unchanged job is in sync and needs no hashing", () => {
    const l = local();
    const r = remote(l);
    expect(filesNeedingHash(l, r, opts)).toEqual([]);
    expect(plan(l, r, new Map(), opts)).toEqual({ kind: "in-sync", via: "plan", final: true });
  });

  it("planJob › a new job uploads every file and commits the record", () => {
    const l = local();
    expect(filesNeedingHash(l, null, opts)).toHaveLength(2);
    const p = plan(l, null, hashesOf(l), opts);
    expect(p).toMatchObject({ kind: "sync", recordChanged: true, removes: [] });
    if (p.kind !== "sync") throw new Error("expected sync");
    expect(p.uploads.map((u) => u.file.filename).sort()).toEqual(["a.png", "a_debug.png"]);
  });

  it("planJob › a file whose size changed is hashed and uploaded alone", () => {
    const l = local();
    const r = remote(l);
    l.files[0] = file("a.png", 120, 1000);
    expect(filesNeedingHash(l, r, opts).map((f) => f.filename)).toEqual(["a.png"]);
    const p = plan(l, r, new Map([["outputs/a.png", "sha-new"]]), opts);
    expect(p).toMatchObject({ kind: "sync", recordChanged: false, metadataUpdates: [] });
    if (p.kind === "sync") expect(p.uploads.map((u) => [u.file.filename, u.sha256])).toEqual([["a.png", "sha-new"]]);
  });

  it("planJob › a touched file with the same content only refreshes its row", () => {
    const l = local();
    const r = remote(l);
    l.files[0] = file("a.png", 100, 2000);
    const p = plan(l, r, new Map([["outputs/a.png", "sha-a.png"]]), opts);
    expect(p).toMatchObject({ kind: "sync", uploads: [] });
    if (p.kind === "sync") expect(p.metadataUpdates.map((m) => [m.file.filename, m.storageId])).toEqual([["a.png", "s-a.png"]]);
  });

  it("planJob › --checksum hashes every file and still skips identical content", () => {
    const l = local();
    const r = remote(l);
    const c = { ...opts, checksum: true };
    expect(filesNeedingHash(l, r, c)).toHaveLength(2);
    expect(plan(l, r, hashesOf(l), c)).toEqual({ kind: "in-sync", via: "plan", final: true });
    const changed = plan(l, r, hashesOf(l, "other-"), c);
    expect(changed.kind === "sync" && changed.uploads.length).toBe(2);
  });

  it("planJob › a changed record alone commits without uploads", () => {
    const l = local({ recordHash: "h2" });
    const p = plan(l, remote(local()), new Map(), opts);
    expect(p).toMatchObject({ kind: "sync", recordChanged: true, uploads: [], metadataUpdates: [] });
  });

  it("planJob › a job with a failure marker is parked", () => {
    const l = local({
      marker: { at: T1, attempts: 3, reason: "boom", retryable: false, previous: { status: "running", progress_stage: "x", error: null } },
    });
    expect(plan(l, null, new Map(), opts)).toEqual({ kind: "parked", reason: "boom", publishRecord: true, final: true });
  });

  it("planJob › a marked job whose record the deployment holds publishes nothing more", () => {
    const l = local({
      marker: { at: T1, attempts: 3, reason: "boom", retryable: false, previous: { status: "running", progress_stage: "x", error: null } },
    });
    expect(plan(l, remote(l), new Map(), opts)).toEqual({ kind: "parked", reason: "boom", publishRecord: false, final: true });
    // Nor over a newer remote record: that would be ignored as stale anyway.
    expect(plan(l, remote(l, { updatedAtUs: T1us + 1, recordHash: "other" }), new Map(), opts)).toMatchObject({ publishRecord: false });
  });

  it("planJob › a newer remote record is left alone", () => {
    const l = local();
    const p = plan(l, remote(l, { updatedAtUs: T1us + 1 }), new Map(), opts);
    expect(p).toEqual({ kind: "remote-ahead", remoteUpdatedAt: microsToIso(T1us + 1), final: true });
  });

  it("planJob › a listed asset missing from a running job waits; from a settled job it is an error", () => {
    const running = local({ settled: false, files: [file("a.png", 100, 1000)] });
    expect(plan(running, null, hashesOf(running), opts)).toEqual({
      kind: "wait",
      file: "outputs/a_debug.png",
      reason: "the component lists it, but it has not appeared yet",
      afterMs: 250,
      final: false,
    });
    const done = local({ files: [file("a.png", 100, 1000)] });
    expect(plan(done, null, hashesOf(done), opts)).toMatchObject({
      kind: "fail",
      code: "ASSET_MISSING",
      file: "j/outputs/a_debug.png",
      final: true,
    });
  });

  it("planJob › a vanished file is removed remotely only with prune, and never while listed", () => {
    const l = local();
    const extra = row(file("old.png", 10, 5));
    const r = remote(l, { assets: [...remote(l).assets, extra] as RemoteJobState["assets"] });
    expect(plan(l, r, new Map(), opts)).toEqual({ kind: "in-sync", via: "plan", final: true });
    expect(plan(l, r, new Map(), { ...opts, prune: true })).toMatchObject({ kind: "sync", removes: ["old.png"] });
    const listedGone = local({ listed: ["a.png", "a_debug.png", "old.png"], settled: false });
    expect(plan(listedGone, r, new Map(), { ...opts, prune: true }).kind).toBe("wait");
  });

  it("planJob › the same record from other bytes only stores the new fingerprint", () => {
    const l = local();
    const p = plan(l, remote(l, { sourceHash: "from-other-bytes" }), new Map(), opts);
    expect(p).toMatchObject({ kind: "sync", recordChanged: false, fingerprintOnly: true, uploads: [], metadataUpdates: [], removes: [] });
    expect(plan(l, remote(l, { sourceHash: null }), new Map(), opts)).toMatchObject({ kind: "sync", fingerprintOnly: true });
    // With a real change, the commit carries the fingerprint anyway: not fingerprint-only.
    const changed = plan(local({ recordHash: "h2" }), remote(l, { sourceHash: null }), new Map(), opts);
    expect(changed).toMatchObject({ kind: "sync", recordChanged: true, fingerprintOnly: false });
  });

  it("planJob › a remote row without a hash (seed's assets:save) is re-hashed", () => {
    const l = local();
    const r = remote(l, { assets: l.files.map((f) => row(f, null)) as RemoteJobState["assets"] });
    expect(filesNeedingHash(l, r, opts)).toHaveLength(2);
    const p = plan(l, r, hashesOf(l), opts);
    expect(p.kind === "sync" && p.uploads.length).toBe(2);
  });

  it("planJob › a deferred file (still being written, not listed) is neither uploaded nor removed, even with prune", () => {
    const trace = file("trace.json", 300, 5000, "trace_json");
    const l = local({ files: [...local().files, trace], recordHash: "h2" });
    const before = remote(local(), {
      recordHash: "h1",
      assets: [...local().files.map((f) => row(f)), row(file("trace.json", 200, 4000, "trace_json"))] as RemoteJobState["assets"],
    });
    const deferred = plan(l, before, new Map(), { ...opts, prune: true }, new Set(["trace/trace.json"]));
    expect(deferred).toMatchObject({
      kind: "sync",
      recordChanged: true,
      uploads: [],
      metadataUpdates: [],
      removes: [],
      deferred: { file: "trace/trace.json", afterMs: 40 },
    });
    // Without the deferral the same trace would need a hash, and be uploaded with it.
    expect(() => plan(l, before, new Map(), opts)).toThrow(/needs a hash/);
  });

  it("planJob › refuses to plan a changed file without its hash", () => {
    const l = local();
    expect(() => plan(l, null, new Map(), opts)).toThrow(/needs a hash/);
  });
});

describe("planJob: every decision", () => {
  const marker = {
    at: T1,
    attempts: 3,
    reason: "boom",
    retryable: false,
    previous: { status: "running", progress_stage: "x", error: null },
  };
  const trace = file("trace.json", 300, 5000, "trace_json");
  const withTrace = () => local({ files: [...local().files, trace] });
  const cases: Array<{
    decision: string;
    observation: () => Observation;
    o?: PlanOptions;
    expected: Partial<JobPlan> & { kind: JobPlan["kind"] };
  }> = [
    { decision: "the folder is gone", observation: () => ({ kind: "gone", jobId: "j" }), expected: { kind: "gone" } },
    {
      decision: "in sync by the stored copy (nothing parsed)",
      observation: () => ({
        kind: "job",
        jobId: "j",
        source: SOURCE,
        files: local().files,
        remote: remote(local()),
        local: null,
        readiness: new Map(),
      }),
      expected: { kind: "in-sync", via: "fingerprint", final: true },
    },
    {
      decision: "in sync by the full comparison",
      observation: () => observed(local(), remote(local()), new Map()),
      expected: { kind: "in-sync", via: "plan", final: true },
    },
    {
      decision: "parked by a failure marker",
      observation: () => observed(local({ marker }), null, new Map()),
      expected: { kind: "parked", publishRecord: true },
    },
    {
      decision: "a newer remote record",
      observation: () => observed(local(), remote(local(), { updatedAtUs: T1us + 5 }), new Map()),
      expected: { kind: "remote-ahead" },
    },
    {
      decision: "wait for a listed asset not there yet",
      observation: () => observed(local({ settled: false, files: [file("a.png", 100, 1000)] }), null, new Map([["outputs/a.png", "x"]])),
      expected: { kind: "wait", file: "outputs/a_debug.png", afterMs: 250 },
    },
    {
      decision: "wait for a listed file still being written",
      observation: () => observed(local({ settled: false }), null, new Map([["outputs/a.png", "x"]]), new Set(["outputs/a_debug.png"])),
      expected: { kind: "wait", file: "outputs/a_debug.png", afterMs: 40 },
    },
    {
      decision: "fail: a final job misses a listed asset",
      observation: () => observed(local({ files: [file("a.png", 100, 1000)] }), null, new Map([["outputs/a.png", "x"]])),
      expected: { kind: "fail", code: "ASSET_MISSING" },
    },
    {
      decision: "sync: uploads and the record",
      observation: () => observed(local(), null, hashesOf(local())),
      expected: { kind: "sync", recordChanged: true, fingerprintOnly: false, deferred: null },
    },
    {
      decision: "sync the record, the unlisted trace deferred",
      observation: () => observed({ ...withTrace(), recordHash: "h2" }, remote(local()), new Map(), new Set(["trace/trace.json"])),
      expected: {
        kind: "sync",
        recordChanged: true,
        uploads: [],
        deferred: { file: "trace/trace.json", reason: "still being written", afterMs: 40 },
      },
    },
    {
      decision: "in sync but for a deferred file: wait for it",
      observation: () => observed(withTrace(), remote(local()), new Map(), new Set(["trace/trace.json"])),
      expected: { kind: "wait", file: "trace/trace.json", afterMs: 40 },
    },
    {
      decision: "sync only the fingerprint",
      observation: () => observed(local(), remote(local(), { sourceHash: "other" }), new Map()),
      expected: { kind: "sync", fingerprintOnly: true, recordChanged: false },
    },
    {
      decision: "sync a removal with prune",
      observation: () =>
        observed(
          local(),
          remote(local(), { assets: [...remote(local()).assets, row(file("old.png", 1, 1))] as RemoteJobState["assets"] }),
          new Map(),
        ),
      o: { ...opts, prune: true },
      expected: { kind: "sync", removes: ["old.png"], uploads: [] },
    },
  ];

  it.each(cases)("planJob › $decision", ({ observation, o, expected }) => {
    expect(planJob(observation(), o ?? opts)).toMatchObject(expected);
  });

  it("planJob › the cases cover every kind of plan", () => {
    const kinds: Array<JobPlan["kind"]> = ["gone", "in-sync", "parked", "remote-ahead", "wait", "fail", "sync"];
    expect(new Set(cases.map((c) => c.expected.kind))).toEqual(new Set(kinds));
  });
});
