import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/loadConfig.js";
import type { ConvexGateway, RemoteJobState } from "../../src/remote/ConvexGateway.js";
import { collectStatus, statusExitCode } from "../../src/ops/collectStatus.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { useTempJobsDir } from "../local/tempJobsDir.js";

const tmp = useTempJobsDir();

/** Answers getStates from a map; any write throws (status must never reach one). */
function fakeGateway(states: Map<string, RemoteJobState>, calls: string[][]): ConvexGateway {
  const no = () => {
    throw new Error("write attempted");
  };
  let requests = 0;
  return {
    handshake: async () => ({ apiVersion: API_VERSION, serverTimeMs: Date.now() }),
    getStates: async (ids) => {
      requests++;
      calls.push([...ids]);
      return ids.map((id) => states.get(id) ?? null);
    },
    getPublic: async () => null,
    getRecord: async () => null,
    timeline: async () => [],
    generateUploadUrls: no,
    upload: no,
    commit: no,
    commitMany: no,
    collectGarbage: no,
    stats: () => ({ requests, byFunction: {}, uploads: 0, bytesUploaded: 0 }),
  };
}

describe("collectStatus", () => {
  it("collectStatus › reads remote state in batches of stateBatchSize and never writes", async () => {
    const jobs = Array.from({ length: 5 }, () => new PipelineJob(tmp()));
    for (const j of jobs) await j.runToSuccess();
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp(), stateBatchSize: 2, settleMs: 0 } }).config;
    const calls: string[][] = [];
    const ids = jobs.map((j) => j.id);
    const report = await collectStatus({ config, gateway: fakeGateway(new Map(), calls), jobIds: ids });
    expect(calls).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    expect(report.requests).toBe(3);
    expect(report.counts).toEqual({
      "in-sync": 0,
      "would-sync": 5,
      pending: 0,
      parked: 0,
      failed: 0,
      stuck: 0,
      "remote-ahead": 0,
      gone: 0,
    });
    expect(report.entries.map((e) => e.jobId)).toEqual(ids);
    expect(report.entries[0]!.detail).toMatch(/^would upload 4 files \(.*\), commit the record$/);
    expect(statusExitCode(report)).toBe(1);
  });

  it("collectStatus › a settled job missing a listed asset is failed, named by file", async () => {
    const j = new PipelineJob(tmp());
    await j.runToSuccess();
    await rm(`${j.dir}/outputs/${j.name}_debug.png`);
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp(), settleMs: 0 } }).config;
    const report = await collectStatus({ config, gateway: fakeGateway(new Map(), []), jobIds: [j.id] });
    expect(report.entries[0]).toMatchObject({ state: "failed", code: "ASSET_MISSING" });
    expect(report.entries[0]!.detail).toContain(`${j.name}_debug.png`);
  });

  it("collectStatus › an empty jobs folder is all in sync (exit 0)", async () => {
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp() } }).config;
    const report = await collectStatus({ config, gateway: fakeGateway(new Map(), []), jobIds: [] });
    expect(report.jobs).toBe(0);
    expect(statusExitCode(report)).toBe(0);
  });
});
