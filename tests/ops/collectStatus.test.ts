import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/loadConfig.js";
import { collectStatus, statusExitCode } from "../../src/ops/collectStatus.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { useTempJobsDir } from "../local/tempJobsDir.js";

const tmp = useTempJobsDir();

/** Nothing a status may send: it only reads. */
const WRITES = { generateUploadUrls: 0, upload: 0, commit: 0, commitMany: 0, collectGarbage: 0 };

describe("collectStatus", () => {
  it("collectStatus › reads remote state in batches of stateBatchSize and never writes", async () => {
    const jobs = Array.from({ length: 5 }, () => new PipelineJob(tmp()));
    for (const j of jobs) await j.runToSuccess();
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp(), stateBatchSize: 2, settleMs: 0 } }).config;
    const gateway = new FakeGateway();
    const ids = jobs.map((j) => j.id);
    const report = await collectStatus({ config, gateway, jobIds: ids });
    expect(gateway.stateQueries).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    expect(gateway.calls).toMatchObject(WRITES);
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
    const gateway = new FakeGateway();
    const report = await collectStatus({ config, gateway, jobIds: [j.id] });
    expect(gateway.calls).toMatchObject(WRITES);
    expect(report.entries[0]).toMatchObject({ state: "failed", code: "ASSET_MISSING" });
    expect(report.entries[0]!.detail).toContain(`${j.name}_debug.png`);
  });

  it("collectStatus › an empty jobs folder is all in sync (exit 0)", async () => {
    const config = loadConfig({ cwd: tmp(), env: {}, flags: { jobsDir: tmp() } }).config;
    const report = await collectStatus({ config, gateway: new FakeGateway(), jobIds: [] });
    expect(report.jobs).toBe(0);
    expect(statusExitCode(report)).toBe(0);
  });
});
