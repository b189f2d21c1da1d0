import { describe, expect, it } from "vitest";
import type { JobPlan, SyncPlan } from "../../src/engine/planJob.js";
import { HttpStatusError } from "../../src/errors/classifyError.js";
import { SyncError } from "../../src/errors/SyncError.js";
import type { LocalFile } from "../../src/local/types.js";
import { describeError, describePlan, isRunWideError } from "../../src/ops/classifyJobStatus.js";

const ID = "job-1";
const file: LocalFile = {
  role: "output_png",
  filename: "frame.png",
  relPath: "outputs/frame.png",
  absPath: "/x/job-1/outputs/frame.png",
  size: 10,
  mtimeMs: 1,
  ino: 1,
  contentType: "image/png",
};
const sync = (over: Partial<SyncPlan> = {}): JobPlan => ({
  kind: "sync",
  final: true,
  recordChanged: false,
  fingerprintOnly: false,
  uploads: [],
  metadataUpdates: [],
  removes: [],
  deferred: null,
  ...over,
});

describe("describePlan", () => {
  it.each<{ name: string; plan: JobPlan; state: string; detail: RegExp }>([
    { name: "in-sync is in sync", plan: { kind: "in-sync", via: "plan", final: true }, state: "in-sync", detail: /in sync/ },
    {
      name: "an upload is pending and names the file",
      plan: sync({ uploads: [{ file, sha256: "x" }] }),
      state: "pending",
      detail: /upload 1 file \(outputs\/frame\.png\)/,
    },
    { name: "a record change is pending", plan: sync({ recordChanged: true }), state: "pending", detail: /commit the record/ },
    { name: "only a new fingerprint is in sync", plan: sync({ fingerprintOnly: true }), state: "in-sync", detail: /in sync/ },
    {
      name: "a settling file is pending",
      plan: { kind: "wait", file: "outputs/frame.png", reason: "too fresh", afterMs: 100, final: false },
      state: "pending",
      detail: /settling: outputs\/frame\.png/,
    },
    {
      name: "a marker is failed",
      plan: { kind: "parked", reason: "oversize", publishRecord: false, final: true },
      state: "failed",
      detail: /failure marker: oversize/,
    },
    {
      name: "a newer remote record is a problem",
      plan: { kind: "remote-ahead", remoteUpdatedAt: "2027-01-01T00:00:00+00:00", final: true },
      state: "problem",
      detail: /newer than job\.json/,
    },
    {
      name: "a final job missing a listed asset is a problem",
      plan: { kind: "fail", code: "ASSET_MISSING", file: `${ID}/outputs/frame.png`, message: "lists frame.png", final: true },
      state: "problem",
      detail: /lists frame\.png \(ASSET_MISSING\)/,
    },
    { name: "a vanished folder is unreadable", plan: { kind: "gone" }, state: "unreadable", detail: /does not exist/ },
  ])("describePlan › $name", ({ plan, state, detail }) => {
    const e = describePlan(ID, plan);
    expect(e.state).toBe(state);
    expect(e.detail).toMatch(detail);
    expect(e.jobId).toBe(ID);
  });
});

describe("describeError", () => {
  const where = { jobId: ID, file: `${ID}/job.json` };
  it.each<{ name: string; error: unknown; state: string }>([
    {
      name: "unparsable job.json is unreadable",
      error: new SyncError("JOB_JSON_UNPARSABLE", "line 3: unexpected token", where),
      state: "unreadable",
    },
    {
      name: "an invalid record is unreadable",
      error: new SyncError("JOB_JSON_INVALID", "field `status`: expected …", where),
      state: "unreadable",
    },
    {
      name: "an id differing from the folder is unreadable",
      error: new SyncError("JOB_ID_MISMATCH", "says id x", where),
      state: "unreadable",
    },
    { name: "a missing job.json is pending (being created)", error: new SyncError("JOB_VANISHED", "disappeared", where), state: "pending" },
    { name: "a file changing while read is pending", error: new SyncError("FILE_CHANGED", "changed", where), state: "pending" },
    {
      name: "a missing asset of a settled job is a problem",
      error: new SyncError("ASSET_MISSING", "lists frame.png", where),
      state: "problem",
    },
    { name: "a symlinked file is a problem", error: new SyncError("UNSAFE_PATH", "symlink", where), state: "problem" },
    {
      name: "a file this user may not read is a problem (retried, but an operator fixes it)",
      error: new SyncError("FILE_UNREADABLE", "permission denied", where),
      state: "problem",
    },
    { name: "a bug is a problem", error: new SyncError("INTERNAL", "TypeError: x", where), state: "problem" },
  ])("describeError › $name", ({ error, state }) => {
    const e = describeError(ID, error);
    expect(e.state).toBe(state);
    expect(e.file).toBe(`${ID}/job.json`);
    expect(e.detail).toBe(`${ID}/job.json: ${(error as SyncError).message} (${(error as SyncError).code})`);
  });

  it("errorLine › does not repeat a file the message already names", () => {
    const e = new SyncError("JOB_JSON_INVALID", `${ID}/job.json: field \`status\` is wrong`, where);
    expect(describeError(ID, e).detail).toBe(`${ID}/job.json: field \`status\` is wrong (JOB_JSON_INVALID)`);
  });

  it("isRunWideError › backend and setup errors stop the run, job errors do not", () => {
    expect(isRunWideError(new HttpStatusError(503, "overloaded"))).toBe(true);
    expect(isRunWideError(new SyncError("UNAUTHORIZED", "refused"))).toBe(true);
    expect(isRunWideError(new SyncError("JOB_JSON_INVALID", "bad"))).toBe(false);
    expect(isRunWideError(new SyncError("FILE_CHANGED", "changed"))).toBe(false);
  });
});
