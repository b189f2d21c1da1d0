/**
 * The reconcile path (observe → plan → apply) on real job folders, against an in-memory
 * gateway: what each step reads, decides and sends, and that the state a commit answers with is
 * what the next look uses.
 */
import { mkdtemp, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/engine/ByteBudget.js";
import { CommitBatcher } from "../../src/engine/CommitBatcher.js";
import { type ReconcileDeps, reconcileJob } from "../../src/engine/reconcileJob.js";
import { RemoteStateBatcher } from "../../src/engine/RemoteStateBatcher.js";
import { UploadUrlPool } from "../../src/engine/UploadUrlPool.js";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { writeFailureMarker } from "../../src/local/failureMarker.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";

let jobsDir: string;
let gateway: FakeGateway;
beforeEach(async () => {
  jobsDir = await mkdtemp(path.join(tmpdir(), "celstate-reconcile-"));
  gateway = new FakeGateway();
});
afterEach(async () => {
  await rm(jobsDir, { recursive: true, force: true });
});

function deps(over: Partial<ReconcileDeps> = {}): ReconcileDeps {
  const budget = new ByteBudget(64 * 1024 * 1024);
  return {
    jobsDir,
    rules: DEFAULT_ASSET_RULES,
    states: new RemoteStateBatcher(gateway, 128),
    settleMs: 0,
    plan: { checksum: false, prune: false, settleMs: 0 },
    gateway,
    commits: new CommitBatcher(gateway),
    urls: new UploadUrlPool(gateway),
    acquireBytes: (n, signal) => budget.acquire(n, signal),
    ...over,
  };
}

describe("reconcileJob (observe → plan → apply)", () => {
  it("reconcile › a new job: every file uploaded once, one commit; the state it answers with makes the next look in sync without a query", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    const d = deps();
    const first = await reconcileJob(d, j.id);
    expect(first.plan).toMatchObject({ kind: "sync", recordChanged: true, final: true });
    expect(first.applied).toMatchObject({ commit: { outcome: "created" }, changedDuring: false });
    expect(gateway.calls.upload).toBe(first.applied!.uploaded);
    expect(gateway.calls.commit).toBe(1);
    const queries = gateway.calls.getStates;
    const again = await reconcileJob(d, j.id);
    expect(again).toEqual({ plan: { kind: "in-sync", via: "fingerprint", final: true }, applied: null });
    // The commit's answer served this look: no state was read for it.
    expect(gateway.calls.getStates).toBe(queries);
    expect(gateway.calls.upload).toBe(first.applied!.uploaded);
  });

  it("reconcile › a dry run observes and plans, and sends nothing", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    const r = await reconcileJob(deps({ dryRun: true }), j.id);
    expect(r.plan.kind).toBe("sync");
    expect(r.applied).toBeNull();
    expect(gateway.calls).toMatchObject({ upload: 0, commit: 0, generateUploadUrls: 0 });
  });

  it("reconcile › a commit older than the stored record: the deployment's newer state is remembered, and the next look leaves it alone", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    const d = deps();
    await reconcileJob(d, j.id);
    const stored = gateway.states.get(j.id)!;
    // Another writer committed a newer version meanwhile.
    gateway.states.set(j.id, { ...stored, updatedAtUs: stored.updatedAtUs + 1_000_000, recordHash: "someone-else" });
    j.record = { ...j.record, prompt: "rewritten" };
    await writeFile(path.join(j.dir, "job.json"), JSON.stringify(j.record));
    const r = await reconcileJob(deps(), j.id);
    expect(r.plan.kind).toBe("remote-ahead");
    expect(gateway.calls.commit).toBe(1);
  });

  it("reconcile › a listed file still being written holds the commit back: wait, nothing uploaded", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    const png = path.join(j.dir, "outputs", `${j.name}.png`);
    // cv2.imwrite halfway: the file is fresh and does not end with its IEND chunk yet.
    await truncate(png, (await stat(png)).size - 5);
    const r = await reconcileJob(deps({ settleMs: 60_000, plan: { checksum: false, prune: false, settleMs: 60_000 } }), j.id);
    expect(r.plan).toMatchObject({ kind: "wait", file: `outputs/${j.name}.png` });
    expect(gateway.calls).toMatchObject({ upload: 0, commit: 0 });
  });

  it("reconcile › a listed PNG written a moment ago but whole does not wait for settleMs", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    const png = path.join(j.dir, "outputs", `${j.name}.png`);
    const now = new Date();
    await utimes(png, now, now);
    const r = await reconcileJob(deps({ settleMs: 60_000, plan: { checksum: false, prune: false, settleMs: 60_000 } }), j.id);
    expect(r.plan.kind).toBe("sync");
    expect(gateway.calls.commit).toBe(1);
    expect(gateway.states.get(j.id)?.status).toBe("succeeded");
  });

  it("reconcile › a marked job: its record alone is published, once; its files are not uploaded", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    expect(await writeFailureMarker(j.dir, j.id, { reason: "[SOME_CODE] earlier", attempts: 1, retryable: false })).toBe("written");
    const d = deps();
    const r = await reconcileJob(d, j.id);
    expect(r.plan).toMatchObject({ kind: "parked", publishRecord: true });
    expect(gateway.calls).toMatchObject({ upload: 0, commit: 1 });
    expect(gateway.states.get(j.id)?.status).toBe("failed");
    const again = await reconcileJob(d, j.id);
    expect(again.plan).toMatchObject({ kind: "parked", publishRecord: false });
    expect(gateway.calls.commit).toBe(1);
  });

  it("reconcile › a folder deleted by its owner is gone, and nothing is sent", async () => {
    const j = new PipelineJob(jobsDir);
    await j.runToSuccess();
    await rm(j.dir, { recursive: true, force: true });
    expect(await reconcileJob(deps(), j.id)).toEqual({ plan: { kind: "gone" }, applied: null });
    expect(gateway.calls.commit).toBe(0);
  });
});
