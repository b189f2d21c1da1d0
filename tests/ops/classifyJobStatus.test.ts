import { describe, expect, it } from "vitest";
import type { ReconcileOutcome } from "../../src/engine/reconcileJob.js";
import { HttpStatusError } from "../../src/errors/classifyError.js";
import { SyncError } from "../../src/errors/SyncError.js";
import type { LocalFile } from "../../src/local/types.js";
import { describeError, describeOutcome, isRunWideError } from "../../src/ops/classifyJobStatus.js";

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
const sync = (over: Partial<Extract<ReconcileOutcome, { kind: "would-sync" }>["plan"]> = {}): ReconcileOutcome => ({
  kind: "would-sync",
  settled: true,
  plan: { kind: "sync", jobId: ID, recordChanged: false, fingerprintOnly: false, uploads: [], metadataUpdates: [], removes: [], ...over },
});

describe("describeOutcome", () => {
  it.each<{ name: string; outcome: ReconcileOutcome; state: string; detail: RegExp }>([
    { name: "in-sync is in sync", outcome: { kind: "in-sync", via: "plan", settled: true }, state: "in-sync", detail: /in sync/ },
    { name: "an upload is pending and names the file", outcome: sync({ uploads: [{ file, sha256: "x" }] }), state: "pending", detail: /upload 1 file \(outputs\/frame\.png\)/ },
    { name: "a record change is pending", outcome: sync({ recordChanged: true }), state: "pending", detail: /commit the record/ },
    { name: "a settling file is pending", outcome: { kind: "settling", file: "outputs/frame.png", afterMs: 100, settled: false }, state: "pending", detail: /settling: outputs\/frame\.png/ },
    { name: "a marker is failed", outcome: { kind: "parked", reason: "oversize", settled: true }, state: "failed", detail: /failure marker: oversize/ },
    { name: "a newer remote record is a problem", outcome: { kind: "remote-ahead", remoteUpdatedAt: "2027-01-01T00:00:00+00:00", settled: true }, state: "problem", detail: /newer than job\.json/ },
    { name: "a vanished folder is unreadable", outcome: { kind: "gone" }, state: "unreadable", detail: /does not exist/ },
  ])("describeOutcome › $name", ({ outcome, state, detail }) => {
    const e = describeOutcome(ID, outcome);
    expect(e.state).toBe(state);
    expect(e.detail).toMatch(detail);
    expect(e.jobId).toBe(ID);
  });
});

describe("describeError", () => {
  const where = { jobId: ID, file: `${ID}/job.json` };
  it.each<{ name: string; error: unknown; state: string }>([
    { name: "unparsable job.json is unreadable", error: new SyncError("JOB_JSON_UNPARSABLE", "line 3: unexpected token", where), state: "unreadable" },
    { name: "an invalid record is unreadable", error: new SyncError("JOB_JSON_INVALID", "field `status`: expected …", where), state: "unreadable" },
    { name: "an id differing from the folder is unreadable", error: new SyncError("JOB_ID_MISMATCH", "says id x", where), state: "unreadable" },
    { name: "a missing job.json is pending (being created)", error: new SyncError("JOB_VANISHED", "disappeared", where), state: "pending" },
    { name: "a file changing while read is pending", error: new SyncError("FILE_CHANGED", "changed", where), state: "pending" },
    { name: "a missing asset of a settled job is a problem", error: new SyncError("ASSET_MISSING", "lists frame.png", where), state: "problem" },
    { name: "a symlinked file is a problem", error: new SyncError("UNSAFE_PATH", "symlink", where), state: "problem" },
    { name: "a file this user may not read is a problem (retried, but an operator fixes it)", error: new SyncError("FILE_UNREADABLE", "permission denied", where), state: "problem" },
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
