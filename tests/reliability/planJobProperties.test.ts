/**
 * Properties of the planner (fast-check): for random local and remote states of a job (files
 * present or not, changed by size, mtime or content, rows without a hash, roles that changed,
 * records older, equal or newer, `checksum` and `prune` on or off), applying the plan once with
 * a fake gateway that commits the way `convex/sync.ts` does yields a remote state for which
 * `planJob` says in-sync: reconciliation converges in one apply. Along the way: a plan never
 * uploads a file whose content the remote row already has, and its commit never trips the
 * deployment's MISSING_ASSET check.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ASSET_ROLES } from "../../convex/lib/roles.js";
import { isoToMicros, isoToMillis } from "../../convex/lib/time.js";
import type { Observation } from "../../src/engine/observeJob.js";
import { filesNeedingHash, type JobPlan, planJob, type PlanOptions, storedCopyMatches } from "../../src/engine/planJob.js";
import type { JobSource } from "../../src/local/readJob.js";
import type { AssetRole, LocalFile, LocalJob } from "../../src/local/types.js";
import type { RemoteJobState } from "../../src/remote/ConvexGateway.js";

type RemoteAsset = RemoteJobState["assets"][number];

/** The files a job can have, with the role and content type the default rules give them. */
const FILES: ReadonlyArray<{ filename: string; relPath: string; role: AssetRole; contentType: string }> = [
  { filename: "key.png", relPath: "outputs/key.png", role: "output_png", contentType: "image/png" },
  { filename: "key_debug.png", relPath: "outputs/key_debug.png", role: "debug_png", contentType: "image/png" },
  { filename: "key_mask.png", relPath: "outputs/key_mask.png", role: "mask_png", contentType: "image/png" },
  { filename: "trace.json", relPath: "trace/trace.json", role: "trace_json", contentType: "application/json" },
];
const TIMES = ["2026-11-20T14:03:01.000000+00:00", "2026-11-20T14:03:02.000000+00:00", "2026-11-20T14:03:02.000001+00:00"];
const JOB_ID = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";

/** A file on disk: its stat and what its content hashes to. */
const localFile = fc.record({
  size: fc.integer({ min: 0, max: 3 }),
  mtimeMs: fc.integer({ min: 0, max: 3 }),
  content: fc.integer({ min: 0, max: 2 }),
});
/** A remote row: what it recorded, possibly from an older version or without a hash (seed rows). */
const remoteRow = fc.record({
  size: fc.integer({ min: 0, max: 3 }),
  mtimeMs: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  content: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
  role: fc.constantFrom(...ASSET_ROLES),
  contentType: fc.constantFrom("image/png", "application/json", "application/octet-stream"),
});

const scenario = fc.record({
  local: fc.array(fc.option(localFile, { nil: undefined }), { minLength: FILES.length, maxLength: FILES.length }),
  listed: fc.array(fc.boolean(), { minLength: FILES.length, maxLength: FILES.length }),
  localTime: fc.integer({ min: 0, max: TIMES.length - 1 }),
  localHash: fc.integer({ min: 0, max: 1 }),
  status: fc.constantFrom("queued", "running", "succeeded", "failed"),
  remote: fc.option(
    fc.record({
      time: fc.integer({ min: 0, max: TIMES.length - 1 }),
      hash: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }),
      rows: fc.array(fc.option(remoteRow, { nil: undefined }), { minLength: FILES.length, maxLength: FILES.length }),
    }),
    { nil: null },
  ),
  opts: fc.record({ checksum: fc.boolean(), prune: fc.boolean(), settleMs: fc.constant(100) }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const sha = (content: number) => `sha-${content}`;

function buildLocal(s: Scenario): { job: LocalJob; shaOf: Map<string, string> } {
  const files: LocalFile[] = [];
  const shaOf = new Map<string, string>();
  FILES.forEach((f, i) => {
    const l = s.local[i];
    if (l === undefined) return;
    files.push({ ...f, absPath: `/jobs/${JOB_ID}/${f.relPath}`, size: l.size, mtimeMs: l.mtimeMs, ino: i + 1 });
    shaOf.set(f.relPath, sha(l.content));
  });
  // Only output files can be listed by a component (the trace never is).
  const listed = FILES.filter((f, i) => f.role !== "trace_json" && s.listed[i]).map((f) => f.filename);
  const updatedAt = TIMES[s.localTime]!;
  const job: LocalJob = {
    jobId: JOB_ID,
    dir: `/jobs/${JOB_ID}`,
    jobJson: { path: `/jobs/${JOB_ID}/job.json`, size: 1, mtimeMs: 1, ino: 1, text: "{}" },
    raw: {},
    record: {
      jobId: JOB_ID,
      status: s.status,
      internalAssetType: "icon",
      prompt: "p",
      createdAt: isoToMillis(TIMES[0]!)!,
      updatedAt: isoToMillis(updatedAt)!,
      createdAtIso: TIMES[0]!,
      updatedAtIso: updatedAt,
      componentJson: listed.length > 0 ? JSON.stringify({ assets: Object.fromEntries(listed.map((n) => [n, null])) }) : null,
      error: null,
    },
    recordHash: `record-${s.localHash}`,
    sourceHash: `source-${s.localHash}`,
    settled: s.status === "succeeded" || s.status === "failed",
    marker: null,
    files,
    listed,
  };
  return { job, shaOf };
}

let nextStorage = 1;
function buildRemote(s: Scenario): RemoteJobState | null {
  if (s.remote === null) return null;
  const assets: RemoteAsset[] = [];
  FILES.forEach((f, i) => {
    const r = s.remote!.rows[i];
    if (r === undefined) return;
    assets.push({
      role: r.role,
      filename: f.filename,
      storageId: `${nextStorage++}_storage` as RemoteAsset["storageId"],
      contentType: r.contentType,
      bytes: r.size,
      sha256: r.content === null ? null : sha(r.content),
      sourceMtimeMs: r.mtimeMs,
    });
  });
  const updatedAt = TIMES[s.remote.time]!;
  return {
    jobId: JOB_ID,
    updatedAtUs: isoToMicros(updatedAt)!,
    recordHash: s.remote.hash === null ? null : `record-${s.remote.hash}`,
    sourceHash: null,
    status: "running",
    assets,
  };
}

/** The hashes the reconciler would compute before planning: only for files that need one. */
function hashesFor(job: LocalJob, remote: RemoteJobState | null, opts: PlanOptions, shaOf: Map<string, string>): Map<string, string> {
  return new Map(filesNeedingHash(job, remote, opts).map((f) => [f.relPath, shaOf.get(f.relPath)!]));
}

/**
 * What `sync:commit` does with the plan's commit (convex/sync.ts + lib/jobStore.ts): upsert the
 * record monotonically (a stale one changes nothing), save each asset row by filename, remove
 * the named rows the record does not list, then refuse (roll back) if a listed file has no row.
 */
function applyCommit(remote: RemoteJobState | null, job: LocalJob, plan: Extract<JobPlan, { kind: "sync" }>): RemoteJobState {
  const updatedAtUs = isoToMicros(job.record.updatedAtIso)!;
  if (remote !== null && updatedAtUs < remote.updatedAtUs) return remote; // stale: ignored whole
  const rows = new Map((remote?.assets ?? []).map((a) => [a.filename, { ...a }]));
  for (const u of plan.uploads) {
    rows.set(u.file.filename, {
      role: u.file.role,
      filename: u.file.filename,
      storageId: `${nextStorage++}_storage` as RemoteAsset["storageId"],
      contentType: u.file.contentType,
      bytes: u.file.size,
      sha256: u.sha256,
      sourceMtimeMs: u.file.mtimeMs,
    });
  }
  for (const m of plan.metadataUpdates) {
    rows.set(m.file.filename, {
      role: m.file.role,
      filename: m.file.filename,
      storageId: m.storageId as RemoteAsset["storageId"],
      contentType: m.file.contentType,
      bytes: m.file.size,
      sha256: m.sha256,
      sourceMtimeMs: m.file.mtimeMs,
    });
  }
  const listed = new Set(job.listed);
  for (const name of plan.removes) if (!listed.has(name)) rows.delete(name);
  for (const name of listed) if (!rows.has(name)) throw new Error(`MISSING_ASSET: ${name} has no row (the commit would be rolled back)`);
  return {
    jobId: JOB_ID,
    updatedAtUs,
    recordHash: job.recordHash,
    sourceHash: job.sourceHash,
    status: job.record.status,
    assets: [...rows.values()],
  };
}

/** The planner on one observation of `job` against `remote`, with these hashes known (every file ready). */
function planOf(job: LocalJob, remote: RemoteJobState | null, hashes: Map<string, string>, opts: PlanOptions): JobPlan {
  const readiness = new Map([...hashes].map(([relPath, sha256]) => [relPath, { ready: true as const, sha256 }]));
  // The planner reads job.json's bytes only through `storedCopyMatches`, never in `planJob`.
  const observation: Observation = {
    kind: "job",
    jobId: job.jobId,
    source: {} as unknown as JobSource,
    files: job.files,
    remote,
    local: job,
    readiness,
  };
  return planJob(observation, opts);
}

describe("planJob properties", () => {
  it("planJob › applying a plan once with a commit that behaves like sync:commit converges: the next plan is in-sync", () => {
    let syncs = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const { job, shaOf } = buildLocal(s);
        const remote = buildRemote(s);
        const plan = planOf(job, remote, hashesFor(job, remote, s.opts, shaOf), s.opts);
        switch (plan.kind) {
          case "remote-ahead":
            expect(remote!.updatedAtUs).toBeGreaterThan(isoToMicros(job.record.updatedAtIso)!);
            return;
          case "wait":
          case "fail": {
            const filename = plan.file.split("/").pop()!;
            expect(job.files.map((f) => f.filename)).not.toContain(filename);
            expect(job.listed).toContain(filename);
            expect(plan.kind).toBe(job.settled ? "fail" : "wait");
            return;
          }
          case "gone":
            throw new Error("the folder was there");
          case "parked":
            throw new Error("no marker was given");
          case "in-sync":
            return;
          case "sync":
            break;
        }
        syncs++;
        const rows = new Map((remote?.assets ?? []).map((a) => [a.filename, a]));
        // Minimal: no upload of content the remote row already holds; metadata-only updates are for equal content.
        for (const u of plan.uploads) expect(rows.get(u.file.filename)?.sha256).not.toBe(u.sha256);
        for (const m of plan.metadataUpdates) expect(rows.get(m.file.filename)?.sha256).toBe(m.sha256);
        const after = applyCommit(remote, job, plan);
        const again = planOf(job, after, hashesFor(job, after, s.opts, shaOf), s.opts);
        expect(again, JSON.stringify({ plan, after })).toEqual({ kind: "in-sync", via: "plan", final: job.settled });
      }),
      { numRuns: 3_000 },
    );
    // The generator really exercises the interesting path.
    expect(syncs).toBeGreaterThan(300);
  });

  it("planJob › the fast form of in sync (storedCopyMatches, before any parse) never says in sync where the full plan would not", () => {
    let fast = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const { job, shaOf } = buildLocal(s);
        let remote = buildRemote(s);
        const plan = planOf(job, remote, hashesFor(job, remote, s.opts, shaOf), s.opts);
        // Either the state as generated, or the one a commit of its plan leaves: both claim to
        // come from job.json's very bytes, as a stored fingerprint does.
        if (plan.kind === "sync") remote = applyCommit(remote, job, plan);
        if (remote === null) return;
        remote = { ...remote, sourceHash: job.sourceHash, recordHash: job.recordHash, updatedAtUs: isoToMicros(job.record.updatedAtIso)! };
        const source = { jobId: job.jobId, sourceHash: job.sourceHash, snap: { bytes: Buffer.from("{}") } } as unknown as JobSource;
        if (!storedCopyMatches(source, job.files, remote, s.opts)) return;
        fast++;
        const full = planOf(job, remote, hashesFor(job, remote, s.opts, shaOf), s.opts);
        if (full.kind !== "sync") {
          expect(full.kind, JSON.stringify({ remote, full })).toMatch(/^(in-sync|wait)$/);
          return;
        }
        // Roles are not compared before a parse (the fingerprint covers them): a role refresh
        // is the one thing the full plan may still find.
        expect(full).toMatchObject({ uploads: [], removes: [], recordChanged: false });
        const roles = new Map(remote.assets.map((a) => [a.filename, a.role]));
        for (const m of full.metadataUpdates) expect(m.file.role).not.toBe(roles.get(m.file.filename));
      }),
      { numRuns: 3_000 },
    );
    expect(fast).toBeGreaterThan(300);
  });

  it("planJob › a converged job is in sync under every option, and needs no hashing without --checksum", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        // Size and mtime are trusted without --checksum (rclone's rule): only scenarios where an
        // equal stat means equal content can promise the same answer with and without it.
        fc.pre(
          FILES.every((_, i) => {
            const l = s.local[i];
            const r = s.remote?.rows[i];
            return (
              l === undefined ||
              r === undefined ||
              r.content === null ||
              r.size !== l.size ||
              r.mtimeMs !== l.mtimeMs ||
              r.content === l.content
            );
          }),
        );
        const { job, shaOf } = buildLocal(s);
        const remote = buildRemote(s);
        const plan = planOf(job, remote, hashesFor(job, remote, s.opts, shaOf), s.opts);
        if (plan.kind !== "sync") return;
        const after = applyCommit(remote, job, plan);
        // Without --checksum, a converged job needs no hashing at all: stat alone recognises it.
        expect(filesNeedingHash(job, after, { ...s.opts, checksum: false })).toEqual([]);
        for (const opts of [
          { checksum: true, prune: true },
          { checksum: false, prune: false },
          { checksum: true, prune: false },
        ].map((o) => ({ ...o, settleMs: 100 }))) {
          const p = planOf(job, after, hashesFor(job, after, opts, shaOf), opts);
          if (opts.prune && !s.opts.prune) {
            // Pruning may still want to remove rows that the non-pruning apply left behind.
            expect(["in-sync", "sync"]).toContain(p.kind);
            if (p.kind === "sync")
              expect({ uploads: p.uploads, metadataUpdates: p.metadataUpdates, recordChanged: p.recordChanged }).toEqual({
                uploads: [],
                metadataUpdates: [],
                recordChanged: false,
              });
          } else {
            expect(p.kind).toBe("in-sync");
          }
        }
      }),
      { numRuns: 1_500 },
    );
  });
});
