/**
 * StatsRecorder: request counters and the bounded ring of commits.
 */
import { describe, expect, test } from "vitest";
import { StatsRecorder } from "./StatsRecorder.js";

const docs = { jobs: 0, jobAssets: 0, jobEvents: 0, jobSyncStates: 0, syncMeta: 0 };

describe("StatsRecorder", () => {
  test("StatsRecorder › counts requests by method, route, function path and status", () => {
    const r = new StatsRecorder();
    r.request("POST", "/api/mutation", "sync:commit", 200);
    r.request("POST", "/api/mutation", "sync:commit", 200);
    r.request("POST", "/api/mutation", "sync:commit", "reset");
    r.functionCall("sync:commit");
    r.functionError("sync:commit", "UNAUTHORIZED");
    r.upload();
    const snap = r.snapshot(docs, { count: 0, bytes: 0 });
    expect(snap.requests).toEqual({ "POST /api/mutation sync:commit": { "200": 2, reset: 1 } });
    expect(snap.functionCalls).toEqual({ "sync:commit": 1 });
    expect(snap.functionErrors).toEqual({ "sync:commit": { UNAUTHORIZED: 1 } });
    expect(snap.uploads).toBe(1);
  });

  test("StatsRecorder › keeps the newest commits, oldest first, once the ring is full", () => {
    const r = new StatsRecorder(3);
    for (let i = 1; i <= 5; i++) r.commit({ jobId: `j${i}`, updatedAt: "t", outcome: "created", atMs: i });
    expect(r.commits().map((c) => c.jobId)).toEqual(["j3", "j4", "j5"]);
    expect(r.commits(4).map((c) => c.jobId)).toEqual(["j4", "j5"]);
  });
});
