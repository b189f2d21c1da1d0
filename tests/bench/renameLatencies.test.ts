import { describe, expect, it } from "vitest";
import type { CommitRecord } from "../../bench/BenchStandin.js";
import type { Rename } from "../../bench/LiveJob.js";
import { renameLatencies } from "../../bench/renameLatencies.js";

const ts = (s: number) => `2026-11-25T10:00:${String(s).padStart(2, "0")}.000000+00:00`;
const rename = (jobId: string, s: number, atMs: number, stage = "initialized"): Rename => ({ jobId, updatedAt: ts(s), stage, atMs });
const commit = (jobId: string, s: number, atMs: number, outcome = "updated"): CommitRecord => ({ jobId, updatedAt: ts(s), outcome, atMs });

describe("renameLatencies", () => {
  it("renameLatencies › measures each rename to the commit of the same state", () => {
    const r = renameLatencies(
      [rename("a", 1, 1000), rename("a", 2, 2000, "completed")],
      [commit("a", 1, 1040, "created"), commit("a", 2, 2030)],
    );
    expect(r.latencies).toEqual([40, 30]);
    expect(r.exact).toBe(2);
    expect(r.byStage.get("completed")).toEqual([30]);
    expect(r.unmatched).toEqual([]);
  });

  it("renameLatencies › a superseded state counts until its successor was committed", () => {
    const r = renameLatencies([rename("a", 1, 1000), rename("a", 2, 1005)], [commit("a", 2, 1050, "created")]);
    expect(r.latencies).toEqual([50, 45]);
    expect(r.exact).toBe(1);
  });

  it("renameLatencies › never matches another job's commit, an older state or a stale commit", () => {
    const r = renameLatencies([rename("a", 5, 1000)], [commit("b", 5, 1010), commit("a", 4, 1020), commit("a", 6, 1030, "stale")]);
    expect(r.latencies).toEqual([]);
    expect(r.unmatched).toHaveLength(1);
  });
});
