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
      name: "an upload to make is would-sync and names the file",
      plan: sync({ uploads: [{ file, sha256: "x" }] }),
      state: "would-sync",
      detail: /upload 1 file \(outputs\/frame\.png\)/,
    },
    { name: "a record change is would-sync", plan: sync({ recordChanged: true }), state: "would-sync", detail: /commit the record/ },
    { name: "only a new fingerprint is in sync", plan: sync({ fingerprintOnly: true }), state: "in-sync", detail: /in sync/ },
    {
      name: "a settling file is pending",
      plan: { kind: "wait", file: "outputs/frame.png", reason: "too fresh", afterMs: 100, final: false },
      state: "pending",
      detail: /settling: outputs\/frame\.png/,
    },
    {
      name: "a marker is parked",
      plan: { kind: "parked", reason: "oversize", publishRecord: false, final: true },
      state: "parked",
      detail: /failure marker: oversize/,
    },
    {
      name: "a newer remote record is remote-ahead",
      plan: { kind: "remote-ahead", remoteUpdatedAt: "2027-01-01T00:00:00+00:00", final: true },
      state: "remote-ahead",
      detail: /newer than job\.json/,
    },
    {
      name: "a final job missing a listed asset is failed",
      plan: { kind: "fail", code: "ASSET_MISSING", file: `${ID}/outputs/frame.png`, message: "lists frame.png", final: true },
      state: "failed",
      detail: /lists frame\.png \(ASSET_MISSING\)/,
    },
    { name: "a vanished folder is gone", plan: { kind: "gone" }, state: "gone", detail: /does not exist/ },
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
      name: "unparsable job.json is failed",
      error: new SyncError("JOB_JSON_UNPARSABLE", "line 3: unexpected token", where),
      state: "failed",
    },
    {
      name: "an invalid record is failed",
      error: new SyncError("JOB_JSON_INVALID", "field `status`: expected …", where),
      state: "failed",
    },
    {
      name: "an id differing from the folder is failed",
      error: new SyncError("JOB_ID_MISMATCH", "says id x", where),
      state: "failed",
    },
    { name: "a missing job.json is pending (being created)", error: new SyncError("JOB_VANISHED", "disappeared", where), state: "pending" },
    { name: "a file changing while read is pending", error: new SyncError("FILE_CHANGED", "changed", where), state: "pending" },
    {
      name: "a missing asset of a settled job is failed",
      error: new SyncError("ASSET_MISSING", "lists frame.png", where),
      state: "failed",
    },
    { name: "a symlinked file is failed", error: new SyncError("UNSAFE_PATH", "symlink", where), state: "failed" },
    {
      name: "a file this user may not read is stuck (retried past the limits; an operator fixes it)",
      error: new SyncError("FILE_UNREADABLE", "permission denied", where),
      state: "stuck",
    },
    { name: "a bug is stuck (retried, never marked)", error: new SyncError("INTERNAL", "TypeError: x", where), state: "stuck" },
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
