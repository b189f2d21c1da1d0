/**
 * SyncEngine.checkAll and its fast lane, `triage`, against the stand-in: in-sync jobs are
 * settled without a queue run, changed ones are reconciled without a second state read, jobs
 * the queue already owes are left to it, state reads stay bounded, and a failed read costs
 * nothing but the batch's own reads.
 */
import { readdir, utimes } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { type JobResult, STATE_READS_AHEAD, SyncEngine } from "../../src/engine/SyncEngine.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const BATCH = 4;

/** `n` finished jobs, mirrored by a first backfill; returns their ids in listing order. */
async function syncedJobs(n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) await new PipelineJob(h.jobsDir, { pngBytes: 2_000 }).runToSuccess();
  const config = h.config({ stateBatchSize: BATCH });
  const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
  expect(summary.syncedNow).toBe(n);
  return await listJobIds(h.jobsDir);
}

/** An engine, and its results as they are told (the engine keeps none). */
function engine(
  gateway = h.gateway(h.config({ stateBatchSize: BATCH })),
  stateBatchSize = BATCH,
): SyncEngine & { results: Map<string, JobResult> } {
  const e = new SyncEngine({ config: h.config({ stateBatchSize }), gateway, log: h.log, mode: "backfill" });
  const results = new Map<string, JobResult>();
  e.on("result", (jobId: string, r: JobResult) => results.set(jobId, r));
  return Object.assign(e, { results });
}

function getStatesCalls(): number {
  return h.standin.stats().functionCalls["sync:getStates"] ?? 0;
}

describe("SyncEngine.checkAll", () => {
  it("checkAll › in-sync jobs are settled by triage, with one state read per batch and no queue run", async () => {
    const ids = await syncedJobs(10);
    const e = engine();
    const reads = getStatesCalls();
    await e.checkAll(ids, 0);
    await e.queue.onIdle();
    expect(getStatesCalls() - reads).toBe(Math.ceil(ids.length / BATCH));
    expect(e.queue.stats().done).toBe(0);
    for (const id of ids) expect(e.results.get(id), id).toEqual({ status: "in-sync", final: true, byFingerprint: true });
    await e.close(1_000);
  });

  it("checkAll › a job changed since its commit is queued, and its reconcile reads no state again", async () => {
    const ids = await syncedJobs(6);
    const changed = ids[3]!;
    // Touched: the same bytes with a new mtime, so the commit refreshes the asset row.
    const [png] = (await readdir(path.join(h.jobsDir, changed, "outputs"))).filter((f) => f.endsWith(".png"));
    await utimes(path.join(h.jobsDir, changed, "outputs", png!), new Date(), new Date(Date.now() - 60_000));
    const e = engine();
    const reads = getStatesCalls();
    const commits = h.standin.stats().functionCalls["sync:commit"] ?? 0;
    await e.checkAll(ids, 0);
    await e.queue.onIdle();
    expect(e.queue.stats().done).toBe(1);
    expect(e.results.get(changed)?.status).toBe("synced");
    expect(getStatesCalls() - reads).toBe(Math.ceil(ids.length / BATCH));
    expect((h.standin.stats().functionCalls["sync:commit"] ?? 0) - commits).toBe(1);
    for (const id of ids.filter((i) => i !== changed)) expect(e.results.get(id)?.status, id).toBe("in-sync");
    await e.close(1_000);
  });

  it("checkAll › a job the queue already owes work is left to the queue (never two reconciles of one job)", async () => {
    const ids = await syncedJobs(4);
    const e = engine();
    let resultsOfFirst = 0;
    e.on("result", (jobId: string) => {
      if (jobId === ids[0]) resultsOfFirst++;
    });
    e.enqueue(ids[0]!);
    await e.checkAll(ids, 0);
    await e.queue.onIdle();
    // Every result of that job came from a queue run: triage recorded none of its own.
    expect(e.queue.stats().done).toBeGreaterThanOrEqual(1);
    expect(resultsOfFirst).toBe(e.queue.stats().done);
    expect(e.results.get(ids[0]!)?.status).toBe("in-sync");
    for (const id of ids.slice(1)) expect(e.results.get(id), id).toMatchObject({ status: "in-sync", byFingerprint: true });
    await e.close(1_000);
  });

  it("triage › gives the event loop a turn once its slice of time is used up, so a long pass never blocks live events", async () => {
    const ids = await syncedJobs(12);
    const e = engine();
    const states = await h.gateway(h.config()).getStates(ids);
    let turns = 0;
    let done = false;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    // A clock that moves 2 ms at every look: each job's check uses up a slice's worth.
    let clock = performance.now();
    const now = vi.spyOn(performance, "now").mockImplementation(() => (clock += 2));
    setImmediate(tick);
    try {
      expect(await e.triage(ids, states)).toEqual([]);
    } finally {
      done = true;
      now.mockRestore();
    }
    expect(turns).toBeGreaterThanOrEqual(ids.length / 4);
    await e.close(1_000);
  });

  it(`checkAll › at most ${STATE_READS_AHEAD} state reads are in flight`, async () => {
    const ids = await syncedJobs(12);
    h.standin.setFaults({ latencyMs: 30, path: "sync:getStates" });
    const gateway = h.gateway(h.config({ stateBatchSize: 1 }));
    // The stand-in's gateway, counted: its state reads take real time (the latency fault), so they overlap.
    const read = gateway.getStates.bind(gateway);
    let inFlight = 0;
    let most = 0;
    gateway.getStates = async (jobIds) => {
      most = Math.max(most, ++inFlight);
      try {
        return await read(jobIds);
      } finally {
        inFlight--;
      }
    };
    const e = engine(gateway, 1);
    await e.checkAll(ids, 0);
    await e.queue.onIdle();
    expect(most).toBe(STATE_READS_AHEAD);
    expect([...e.results.values()].every((r) => r.status === "in-sync")).toBe(true);
    await e.close(1_000);
  });

  it("checkAll › a failed state read queues its batch, and each of those jobs reads its own state", async () => {
    const ids = await syncedJobs(8);
    // A reset connection: not a refusal that a smaller batch could fix, so the batch is queued.
    h.standin.setFaults({ refuse: true, path: "sync:getStates", count: 1 });
    const e = engine();
    await e.checkAll(ids, 0);
    await e.queue.onIdle();
    expect(e.queue.stats().done).toBe(BATCH); // the failed batch's jobs, reconciled one by one
    for (const id of ids) expect(e.results.get(id)?.status, id).toBe("in-sync");
    await e.close(1_000);
  });
});
