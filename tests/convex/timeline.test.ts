/**
 * jobEvents as the job's timeline (convex/lib/timeline.ts): every stage transition a write
 * makes, at the record's own time; the trace's events, bounded; the functions' bookkeeping
 * under its own kinds. Idempotent: a replay, a restart's re-check or a second daemon adds
 * nothing. Internal: `sync:timeline` is token checked and `jobs:getPublic` never shows it.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { MAX_TRACE_DATA_BYTES, MAX_TRACE_EVENTS, type TraceInput } from "../../convex/lib/timeline.js";
import {
  atInstant,
  type ConvexHarness,
  expectConvexError,
  hashed,
  loadSample,
  newConvexTest,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

const queued = loadSample("01-queued.job.json");
const jobId = queued.job.jobId;

function at(iso: string, over: Partial<JobRecordInput> = {}) {
  return hashed({ ...atInstant(queued.job, iso), ...over });
}

const STAGES = [
  at("2026-11-20T14:03:11.483102+00:00"),
  at("2026-11-20T14:03:12.000001+00:00", { status: "running", progressStage: "generating_passes" }),
  at("2026-11-20T14:03:30.000002+00:00", { status: "running", progressStage: "processing_matting" }),
  // Same stage, other content: no transition.
  at("2026-11-20T14:03:31.000003+00:00", { status: "running", progressStage: "processing_matting", prompt: "edited" }),
  at("2026-11-20T14:03:41.377820+00:00", { status: "failed", progressStage: "error", error: "boom" }),
];

async function commit(t: ConvexHarness, r: { job: JobRecordInput; recordHash: string }, trace?: TraceInput) {
  return await t.mutation(api.sync.commit, { serviceToken: TOKEN, ...r, assets: [], ...(trace === undefined ? {} : { trace }) });
}

const timeline = (t: ConvexHarness) => t.query(api.sync.timeline, { serviceToken: TOKEN, jobId });

function trace(total: number, dataOf: (i: number) => string | null = (i) => `{"i": ${i}}`): TraceInput {
  const events = Array.from({ length: Math.min(total, MAX_TRACE_EVENTS) }, (_, i) => ({
    index: i,
    eventType: i === 0 ? "input" : "step",
    timestamp: `2026-11-20T14:04:${String(i % 60).padStart(2, "0")}.000000+00:00`,
    dataJson: dataOf(i),
    dataBytes: dataOf(i)?.length ?? 4000,
  }));
  return { events, totalEvents: total };
}

describe("timeline", () => {
  test("stage transitions land once each, at the record's own time, oldest first", async () => {
    const t = newConvexTest();
    for (const s of STAGES) await commit(t, s);
    const stages = (await timeline(t)).filter((e) => e.kind === "stage");
    expect(stages.map((e) => [e.payload.status, e.payload.progressStage, e.createdAt])).toEqual([
      ["queued", "initialized", STAGES[0]!.job.updatedAt],
      ["running", "generating_passes", STAGES[1]!.job.updatedAt],
      ["running", "processing_matting", STAGES[2]!.job.updatedAt],
      ["failed", "error", STAGES[4]!.job.updatedAt],
    ]);
    expect(stages[0]!.payload.updatedAt).toBe(STAGES[0]!.job.updatedAtIso);
  });

  test("a replay, a stale write and a second writer of the same records add nothing", async () => {
    const t = newConvexTest();
    for (const s of STAGES) await commit(t, s);
    const before = await timeline(t);
    // Every record again (a restart's re-check, a second daemon): unchanged or stale.
    for (const s of STAGES) await commit(t, s);
    const after = await timeline(t);
    expect(after.filter((e) => e.kind === "stage")).toEqual(before.filter((e) => e.kind === "stage"));
    expect(after.filter((e) => e.kind !== "stale_ignored")).toEqual(before);
  });

  test("bookkeeping keeps its own kinds", async () => {
    const t = newConvexTest();
    await commit(t, STAGES[0]!);
    await commit(t, STAGES[1]!);
    await commit(t, STAGES[0]!);
    // Oldest first by the time each records: the stages at the records' times, the bookkeeping at sync time.
    expect((await timeline(t)).map((e) => e.kind)).toEqual(["stage", "stage", "created", "updated", "stale_ignored"]);
  });

  test(`trace events: at most ${MAX_TRACE_EVENTS} per job, the rest summarised, replays add nothing`, async () => {
    const t = newConvexTest();
    await commit(t, STAGES[0]!, trace(150));
    let events = await timeline(t);
    expect(events.filter((e) => e.kind === "trace")).toHaveLength(MAX_TRACE_EVENTS);
    expect(events.filter((e) => e.kind === "trace_summary").map((e) => e.payload)).toEqual([
      { totalEvents: 150, keptEvents: MAX_TRACE_EVENTS, omittedEvents: 50 },
    ]);
    const first = events.find((e) => e.kind === "trace")!;
    expect(first.payload).toMatchObject({ index: 0, eventType: "input", dataJson: '{"i": 0}' });
    expect(first.createdAt).toBe(Date.parse("2026-11-20T14:04:00.000Z"));

    await commit(t, STAGES[0]!, trace(150));
    await commit(t, STAGES[1]!, trace(150));
    events = await timeline(t);
    expect(events.filter((e) => e.kind === "trace")).toHaveLength(MAX_TRACE_EVENTS);
    expect(events.filter((e) => e.kind === "trace_summary")).toHaveLength(1);
  });

  test("a trace that grows adds only its new events, within the bound", async () => {
    const t = newConvexTest();
    await commit(t, STAGES[0]!, trace(3));
    await commit(t, STAGES[1]!, trace(5));
    expect((await timeline(t)).filter((e) => e.kind === "trace").map((e) => e.payload.index)).toEqual([0, 1, 2, 3, 4]);
  });

  test("a trace past the bounds is refused as the daemon's bug (INVALID_ARGUMENT, no jobId), nothing written", async () => {
    const t = newConvexTest();
    const tooMany = {
      events: [...trace(MAX_TRACE_EVENTS).events, { ...trace(1).events[0]!, index: MAX_TRACE_EVENTS }],
      totalEvents: MAX_TRACE_EVENTS + 1,
    };
    let data = await expectConvexError(commit(t, STAGES[0]!, tooMany), "INVALID_ARGUMENT");
    expect(data).toMatchObject({ field: "trace" });
    expect(data.jobId).toBeUndefined();
    data = await expectConvexError(
      commit(
        t,
        STAGES[0]!,
        trace(1, () => `"${"x".repeat(MAX_TRACE_DATA_BYTES)}"`),
      ),
      "INVALID_ARGUMENT",
    );
    expect(data.jobId).toBeUndefined();
    expect(await timeline(t)).toEqual([]);
  });

  test("the timeline is internal: getPublic shows none of it", async () => {
    const t = newConvexTest();
    await commit(t, STAGES[0]!, trace(2));
    const pub = await t.query(api.jobs.getPublic, { jobId });
    expect(Object.keys(pub!).sort()).toEqual(["component", "error", "jobId", "status"]);
    expect(JSON.stringify(pub)).not.toContain("trace");
  });
});
