import { readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backfillExitCode, runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { sourceHashOf } from "../../src/local/readJob.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, download, type Harness, sha256 } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

async function backfill(over: Parameters<Harness["config"]>[0] = {}, jobIds?: string[]) {
  const config = h.config(over);
  const before = { all: refusedCalls(), commits: refusedCalls("sync:commit") };
  const result = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: jobIds ?? (await listJobIds(h.jobsDir)) });
  // What the deployment refused during the run (it does under load): each costs one more request.
  return { ...result, refused: refusedCalls() - before.all, refusedCommits: refusedCalls("sync:commit") - before.commits };
}

/** Calls (of `fn`, or of any function) the stand-in refused before running them: 429 concurrency, 503 OCC. */
function refusedCalls(fn?: string): number {
  const errors = h.standin.stats().functionErrors;
  let n = 0;
  for (const [path, byCode] of Object.entries(errors)) {
    if (fn !== undefined && path !== fn) continue;
    n += (byCode.TooManyConcurrentRequests ?? 0) + (byCode.OptimisticConcurrencyControlFailure ?? 0);
  }
  return n;
}

async function localRecord(job: PipelineJob): Promise<Record<string, unknown>> {
  return parsePythonJson(await readFile(path.join(job.dir, "job.json"), "utf8")) as Record<string, unknown>;
}

/** Every public field equals job.json's and every URL serves the local file's exact bytes. */
async function expectMirrored(job: PipelineJob): Promise<void> {
  const rec = await localRecord(job);
  const pub = await h.getPublic(job.id);
  expect(pub).not.toBeNull();
  expect(pub!.status).toBe(rec.status);
  expect(pub!.error).toBe(rec.error);
  if (rec.retry_after === undefined) expect("retryAfter" in pub!).toBe(false);
  else expect(pub!.retryAfter).toBe(rec.retry_after);
  const comp = rec.component as Record<string, unknown> | null;
  if (comp === null) {
    expect(pub!.component).toBeNull();
    return;
  }
  const pc = pub!.component as Record<string, unknown>;
  expect(Object.keys(pc).sort()).toEqual(Object.keys(comp).sort());
  expect(pc.manifest).toEqual(comp.manifest);
  expect(pc.telemetry).toEqual(comp.telemetry); // NaN and Infinity included (toEqual: NaN equals NaN)
  const assets = pc.assets as Record<string, string>;
  expect(Object.keys(assets).sort()).toEqual(Object.keys(comp.assets as object).sort());
  for (const [name, url] of Object.entries(assets)) {
    const { bytes, contentType } = await download(url);
    const local = await readFile(path.join(job.dir, "outputs", name));
    expect(sha256(bytes), name).toBe(sha256(local));
    expect(contentType).toBe("image/png");
  }
}

describe("backfill (end to end against the stand-in)", () => {
  it("backfill › mirrors every record field and every byte, NaN included", async () => {
    const done = [0, 1, 2].map((i) => new PipelineJob(h.jobsDir, { pngBytes: 20_000 + i * 5000, withMask: i !== 1 }));
    for (const j of done) await j.runToSuccess();
    const limited = new PipelineJob(h.jobsDir);
    await limited.queued();
    await limited.running();
    await limited.failed("Rate Limit Exceeded. Please try again later.", 60);
    const queued = new PipelineJob(h.jobsDir);
    await queued.queued();

    const { summary, fatal } = await backfill();
    expect(fatal).toBeNull();
    expect(summary.failed).toEqual([]);
    expect(summary.syncedNow).toBe(5);
    expect(summary.filesUploaded).toBe(3 + 2 + 3 + 3); // outputs (+mask) + traces
    for (const j of [...done, limited, queued]) await expectMirrored(j);
    expect(h.standin.stats().documents.jobs).toBe(5);
  });

  it("backfill › a second run makes zero uploads and zero writes", async () => {
    for (let i = 0; i < 4; i++) await new PipelineJob(h.jobsDir).runToSuccess();
    await backfill();
    const before = h.standin.stats();
    const { summary, refused } = await backfill();
    const after = h.standin.stats();
    expect(summary.inSync).toBe(4);
    // Recognised by job.json's fingerprint and the files' stat: nothing was parsed.
    expect(summary.inSyncByFingerprint).toBe(4);
    expect(summary.syncedNow).toBe(0);
    expect(summary.filesUploaded).toBe(0);
    expect(after.uploads).toBe(before.uploads);
    expect(after.functionCalls["sync:commit"] ?? 0).toBe(before.functionCalls["sync:commit"] ?? 0);
    expect(after.functionCalls["assets:generateUploadUrls"] ?? 0).toBe(before.functionCalls["assets:generateUploadUrls"] ?? 0);
    // One batched state query for the four jobs, nothing else (and one more per refusal).
    expect(summary.requests).toBe(1 + refused);
  });

  it("backfill › a changed record or file costs only its own upload and one commit", async () => {
    const a = new PipelineJob(h.jobsDir);
    const b = new PipelineJob(h.jobsDir);
    await a.runToSuccess();
    await b.runToSuccess();
    await backfill();
    // Rewrite one PNG of `a` with new content; leave `b` alone.
    const png = path.join(a.dir, "outputs", `${a.name}.png`);
    const { makePngOfSize } = await import("../helpers/png.js");
    await writeFile(png, makePngOfSize(9000, 99));
    const { summary, refusedCommits } = await backfill();
    expect(summary.syncedNow).toBe(1);
    expect(summary.inSync).toBe(1);
    expect(summary.filesUploaded).toBe(1);
    // One commit, plus one more for each the deployment refused.
    expect(summary.requestsByFunction["sync:commit"]).toBe(1 + refusedCommits);
    await expectMirrored(a);
  });

  it("backfill › the job.json fingerprint never hides a change", async () => {
    const a = new PipelineJob(h.jobsDir);
    await a.runToSuccess();
    await backfill();
    const jobJson = path.join(a.dir, "job.json");
    const text = await readFile(jobJson, "utf8");

    // The same record written differently (one more trailing newline): parsed, found equal, and
    // the new fingerprint stored by one commit that changes no record and no asset.
    const events = h.standin.stats().documents.jobEvents;
    await writeFile(jobJson, `${text}\n`);
    let { summary, refused, refusedCommits } = await backfill();
    expect(summary.inSyncByFingerprint).toBe(0);
    expect(summary.filesUploaded).toBe(0);
    expect(summary.requestsByFunction["sync:commit"]).toBe(1 + refusedCommits);
    expect(h.standin.stats().documents.jobEvents).toBe(events);
    ({ summary, refused } = await backfill());
    expect(summary.inSyncByFingerprint).toBe(1);
    expect(summary.requests).toBe(1 + refused);

    // A changed record: new bytes, so it is parsed and committed.
    const rec = await localRecord(a);
    await writeFile(
      jobJson,
      text.replace(`"prompt": ${JSON.stringify(rec.prompt)}`, `"prompt": ${JSON.stringify(`${String(rec.prompt)} (edited)`)}`),
    );
    ({ summary } = await backfill());
    expect(summary.syncedNow).toBe(1);
    expect(((await h.getPublic(a.id)) as { status: string }).status).toBe("succeeded");
    const state = (await h.gateway().getStates([a.id]))[0]!;
    expect(state.sourceHash).toBe(sourceHashOf(await readFile(jobJson)));

    // A file whose stat changed but whose bytes did not: hashed, and only its row refreshed.
    const png = path.join(a.dir, "outputs", `${a.name}.png`);
    const earlier = new Date(Date.now() - 60_000);
    await utimes(png, earlier, earlier);
    ({ summary } = await backfill());
    expect(summary.inSyncByFingerprint).toBe(0);
    expect(summary.filesUploaded).toBe(0);
    ({ summary } = await backfill());
    expect(summary.inSyncByFingerprint).toBe(1);

    // A file that vanished: the full plan runs and refuses a settled job without its asset.
    await rm(png);
    ({ summary } = await backfill());
    expect(summary.inSyncByFingerprint).toBe(0);
    expect(summary.failed.map((f) => f.code)).toEqual(["ASSET_MISSING"]);
  });

  it("backfill › --checksum finds no change in touched but identical files", async () => {
    const a = new PipelineJob(h.jobsDir);
    await a.runToSuccess();
    await backfill();
    const png = path.join(a.dir, "outputs", `${a.name}.png`);
    const earlier = new Date(Date.now() - 60_000);
    const { utimes } = await import("node:fs/promises");
    await utimes(png, earlier, earlier);
    const { summary, refusedCommits } = await backfill({ checksum: true });
    expect(summary.filesUploaded).toBe(0);
    // the row's recorded mtime is refreshed by one metadata-only commit
    expect(summary.requestsByFunction["sync:commit"]).toBe(1 + refusedCommits);
    const again = await backfill();
    expect(again.summary.inSync).toBe(1);
    expect(again.summary.requests).toBe(1 + again.refused);
  });

  it("backfill › --dry-run plans and changes nothing", async () => {
    await new PipelineJob(h.jobsDir).runToSuccess();
    const config = h.config();
    const before = h.standin.stats();
    const { summary } = await runBackfill({
      config,
      gateway: h.gateway(config),
      log: h.log,
      jobIds: await listJobIds(h.jobsDir),
      dryRun: true,
    });
    expect(summary.wouldSync).toBe(1);
    const after = h.standin.stats();
    expect(after.uploads).toBe(before.uploads);
    expect(after.functionCalls["sync:commit"] ?? 0).toBe(0);
    expect(after.documents.jobs).toBe(0);
  });

  it("backfill › converges through an outage, 503s, a dropped upload and a failed commit", async () => {
    const jobs = [0, 1, 2, 3].map(() => new PipelineJob(h.jobsDir, { pngBytes: 200_000 }));
    for (const j of jobs) await j.runToSuccess();
    h.standin.setFaults([
      { refuse: true, durationMs: 400 },
      { status: 503, count: 3 },
      { dropUpload: true, count: 1 },
      { failCommit: true, count: 2 },
    ]);
    const { summary, fatal } = await backfill();
    expect(fatal).toBeNull();
    expect(summary.failed).toEqual([]);
    expect(summary.syncedNow).toBe(4);
    for (const j of jobs) await expectMirrored(j);
  });

  it("backfill › a deployment answering 503 past every retry limit: no marker, the run stops saying so, a later run syncs", async () => {
    const jobs = [0, 1].map(() => new PipelineJob(h.jobsDir));
    for (const j of jobs) await j.runToSuccess();
    const before = await Promise.all(jobs.map((j) => readFile(path.join(j.dir, "job.json"), "utf8")));
    h.standin.setFaults({ status: 503, durationMs: 60_000 });
    const { summary } = await backfill({ retry: { baseMs: 1, maxMs: 5, maxAttempts: 3, maxRetryMs: 1_000 } });
    expect(summary.failed).toEqual([]);
    expect(summary.deploymentDown?.code).toBe("SERVER_ERROR");
    expect(summary.pending.map((p) => p.jobId).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(backfillExitCode(summary, null)).toBe(1);
    expect(await Promise.all(jobs.map((j) => readFile(path.join(j.dir, "job.json"), "utf8")))).toEqual(before);

    h.standin.clearFaults();
    const again = await backfill();
    expect(again.summary.syncedNow).toBe(2);
    for (const j of jobs) await expectMirrored(j);
  });

  it("backfill › a marked job is parked: another run does not rewrite it, and retry brings it back", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    const before = await readFile(path.join(j.dir, "job.json"), "utf8");
    const debug = path.join(j.dir, "outputs", `${j.name}_debug.png`);
    const debugBytes = await readFile(debug);
    await rm(debug);
    const { summary } = await backfill();
    expect(summary.failed.map((f) => [f.code, f.marker])).toEqual([["ASSET_MISSING", "written"]]);
    const rec = await localRecord(j);
    expect(rec.status).toBe("failed");
    expect(rec.progress_stage).toBe("error");
    expect(String(rec.error)).toMatch(new RegExp(`^\\[TraceID: ${j.id}\\] Convex sync failed: `));

    const markedText = await readFile(path.join(j.dir, "job.json"), "utf8");
    const parkedRun = await backfill();
    expect(parkedRun.summary.parked).toHaveLength(1);
    expect(await readFile(path.join(j.dir, "job.json"), "utf8")).toBe(markedText);

    await writeFile(debug, debugBytes);
    const { clearFailureMarker } = await import("../../src/local/failureMarker.js");
    expect(await clearFailureMarker(j.dir, j.id)).toBe("cleared");
    const retried = await backfill();
    expect(retried.summary.syncedNow).toBe(1);
    const back = await localRecord(j);
    expect(back.sync_failure).toBeUndefined();
    // everything but updated_at is back as the pipeline wrote it
    const orig = parsePythonJson(before) as Record<string, unknown>;
    expect({ ...back, updated_at: 0 }).toEqual({ ...orig, updated_at: 0 });
    await expectMirrored(j);
  });

  it("backfill › the marked record is published even when the deployment refuses its first commit for now (OCC)", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    await rm(path.join(j.dir, "outputs", `${j.name}_debug.png`));
    // The job fails before any commit: the first sync:commit is the marked record's.
    h.standin.setFaults({ path: "sync:commit", occ: true, count: 1 });
    const { summary } = await backfill();
    expect(summary.failed[0]).toMatchObject({ code: "ASSET_MISSING", marker: "written" });
    expect(await h.getPublicRaw(j.id)).toMatchObject({ jobId: j.id, status: "failed" });
  });

  it("backfill › a settled job missing a listed asset fails with a marker naming the file", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    await rm(path.join(j.dir, "outputs", `${j.name}_debug.png`));
    const { summary } = await backfill();
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]!.code).toBe("ASSET_MISSING");
    expect(summary.failed[0]!.reason).toContain(`${j.name}_debug.png`);
    expect(summary.failed[0]!.reason).toContain(j.id);
    expect(summary.failed[0]!.marker).toBe("written");
    // Shown failed in public at once, exactly as the marked job.json says.
    const rec = await localRecord(j);
    expect(await h.getPublicRaw(j.id)).toEqual({ jobId: j.id, status: "failed", error: rec.error, component: null });
  });

  it("backfill › an unparsable job.json is reported and never rewritten", async () => {
    const good = new PipelineJob(h.jobsDir);
    await good.runToSuccess();
    const bad = new PipelineJob(h.jobsDir);
    await bad.queued();
    const file = path.join(bad.dir, "job.json");
    await writeFile(file, '{"id": "truncated", "status": ');
    const st = await stat(file);
    const { summary } = await backfill();
    expect(summary.syncedNow).toBe(1);
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]).toMatchObject({ jobId: bad.id, code: "JOB_JSON_UNPARSABLE", marker: "not written" });
    expect(summary.failed[0]!.reason).toContain(`${bad.id}/job.json`);
    expect(await readFile(file, "utf8")).toBe('{"id": "truncated", "status": ');
    expect((await stat(file)).mtimeMs).toBe(st.mtimeMs);
  });

  it("backfill › a half-written PNG is not uploaded until it is complete", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.queued();
    await j.running();
    await j.processing();
    const png = path.join(j.dir, "outputs", `${j.name}.png`);
    const full = await readFile(png);
    await writeFile(png, full.subarray(0, Math.floor(full.length / 2)));
    const { summary } = await backfill({ settleWaitMs: 300 }, [j.id]);
    // The job is running, so it waits (settling) and is reported pending, not failed.
    expect(summary.failed).toEqual([]);
    expect(summary.pending.map((p) => p.jobId)).toEqual([j.id]);
    expect(h.standin.stats().uploads).toBe(0);
    await writeFile(png, full);
    const again = await backfill({}, [j.id]);
    expect(again.summary.syncedNow).toBe(1);
    await expectMirrored(j);
  });

  it("backfill › a trace still being written does not hold the record back: the record commits now, the trace once it has settled", async () => {
    const settleMs = 1_500;
    const j = new PipelineJob(h.jobsDir);
    await j.queued();
    await j.running();
    await j.processing();
    await j.succeeded();
    // Everything but the trace was written long ago; the trace, just now.
    const old = new Date(Date.now() - 60_000);
    for (const f of j.assetNames) await utimes(path.join(j.dir, "outputs", f), old, old);
    await utimes(path.join(j.dir, "job.json"), old, old);
    await j.trace();
    const traceAt = (await stat(path.join(j.dir, "trace", "trace.json"))).mtimeMs;

    const { summary } = await backfill({ settleMs }, [j.id]);
    expect(summary.syncedNow).toBe(1);
    const commits = h.standin.commits().filter((c) => c.jobId === j.id);
    expect(commits).toHaveLength(2);
    expect(commits[0]!.atMs).toBeLessThan(traceAt + settleMs); // the record did not wait
    expect(commits[1]!.atMs).toBeGreaterThanOrEqual(traceAt + settleMs); // the trace did
    await expectMirrored(j);
    expect(h.standin.stats().documents.jobAssets).toBe(j.assetNames.length + 1);
  });

  it("backfill › an output the component lists, written a moment ago but whole, does not wait for settleMs", async () => {
    const settleMs = 10_000;
    const j = new PipelineJob(h.jobsDir);
    await j.queued();
    await j.running();
    await j.processing();
    const pngAt = (await stat(path.join(j.dir, "outputs", `${j.name}.png`))).mtimeMs;
    const { summary } = await backfill({ settleMs }, [j.id]);
    expect(summary.syncedNow).toBe(1);
    const commits = h.standin.commits().filter((c) => c.jobId === j.id);
    expect(commits).toHaveLength(1);
    // A PNG ends with its IEND chunk once written: that, not its age, says it is whole.
    expect(commits[0]!.atMs).toBeLessThan(pngAt + settleMs);
    await expectMirrored(j);
  });

  it("backfill › files outside the job folder are never read", async () => {
    const j = new PipelineJob(h.jobsDir);
    await j.runToSuccess();
    const secret = path.join(h.jobsDir, "..", `secret-${j.id}.png`);
    await writeFile(secret, "not for upload");
    const debug = path.join(j.dir, "outputs", `${j.name}_debug.png`);
    await rm(debug);
    const { symlink } = await import("node:fs/promises");
    await symlink(secret, debug);
    const { summary } = await backfill();
    expect(summary.failed[0]).toMatchObject({ jobId: j.id, code: "UNSAFE_PATH" });
    expect(h.standin.stats().uploads).toBe(0);
    await rm(secret);
  });
});
