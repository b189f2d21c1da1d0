import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkJobRecord, jobJsonFieldName, jobRecordV1, recordHash, toConvexRecord } from "../../src/local/jobRecord.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";

const SAMPLES = path.resolve(import.meta.dirname, "../fixtures/samples");
const JOB_SAMPLES = ["01-queued", "02-running", "03-processing", "04-succeeded", "05-failed-rate-limit"];
const load = (name: string) => parsePythonJson(readFileSync(path.join(SAMPLES, `${name}.job.json`), "utf8")) as Record<string, unknown>;

function problem(raw: unknown): string {
  const r = checkJobRecord(raw);
  if (r.ok) throw new Error("expected a problem");
  return r.problem;
}

describe("checkJobRecord", () => {
  it.each(JOB_SAMPLES)("checkJobRecord › accepts sample %s", (name) => {
    const r = checkJobRecord(load(name));
    expect(r.ok).toBe(true);
  });

  it("checkJobRecord › names the field, the allowed values and what arrived for a bad status", () => {
    expect(problem({ ...load("02-running"), status: "done" })).toBe(
      'field `status`: expected one of queued|running|succeeded|failed, got "done"',
    );
  });

  it("checkJobRecord › says when a required field is missing", () => {
    const { prompt: _prompt, ...rest } = load("01-queued");
    expect(problem(rest)).toBe("field `prompt`: expected a string, the field is missing");
  });

  it.each([
    [{ prompt: 3 }, "field `prompt`: expected a string, got 3"],
    [{ error: false }, "field `error`: expected a string or null, got false"],
    [{ component: [] }, "field `component`: expected an object or null, got an array of 0"],
    [
      { component: { assets: ["a.png"] } },
      "field `component.assets`: expected an object mapping filenames to placeholders, got an array of 1",
    ],
    [{ render_size_hint: 1.5 }, "field `render_size_hint`: expected an integer or null, got 1.5"],
    [
      { updated_at: "yesterday" },
      'field `updated_at`: expected an ISO-8601 timestamp like 2026-11-20T14:03:11.482913+00:00, got "yesterday"',
    ],
    [{ telemetry: NaN }, "field `telemetry`: expected an object or null, got NaN"],
  ])("checkJobRecord › wrong type %j is reported by field", (patch, message) => {
    expect(problem({ ...load("04-succeeded"), ...patch })).toBe(message);
  });

  it("checkJobRecord › counts further problems", () => {
    expect(problem({ ...load("01-queued"), status: 1, type: 2 })).toMatch(/\(and 1 more problem\)$/);
  });

  it("checkJobRecord › refuses a top level that is not an object", () => {
    expect(problem([1])).toBe("expected a JSON object at the top level, got an array of 1");
    expect(problem(null)).toBe("expected a JSON object at the top level, got null");
  });

  it("checkJobRecord › keeps unknown extra keys in the parsed record but not in the Convex record", () => {
    const raw = { ...load("04-succeeded"), sync_failure: { reason: "x" }, pipeline_version: "2.1" };
    const r = checkJobRecord(raw);
    if (!r.ok) throw new Error(r.problem);
    expect(r.record).toMatchObject({ pipeline_version: "2.1", sync_failure: { reason: "x" } });
    expect(Object.keys(toConvexRecord(r.record))).not.toContain("pipeline_version");
    expect(Object.keys(toConvexRecord(r.record))).not.toContain("sync_failure");
  });
});

describe("toConvexRecord", () => {
  it("toConvexRecord › maps the succeeded sample with NaN and Infinity intact", () => {
    const rec = toConvexRecord(jobRecordV1.parse(load("04-succeeded")));
    expect(rec.jobId).toBe("3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42");
    expect(rec.internalAssetType).toBe("container");
    expect(rec.renderSizeHint).toBe(160);
    const telemetry = rec.telemetry as Record<string, number>;
    expect(Number.isNaN(telemetry.edge_noise)).toBe(true);
    expect(telemetry.max_gradient).toBe(Infinity);
  });

  it("toConvexRecord › keeps retry_after for the rate-limited sample", () => {
    expect(toConvexRecord(jobRecordV1.parse(load("05-failed-rate-limit"))).retryAfter).toBe(60);
  });

  it("recordHash › is stable across reads and changes with the content", () => {
    const a = recordHash(toConvexRecord(jobRecordV1.parse(load("04-succeeded"))));
    const b = recordHash(toConvexRecord(jobRecordV1.parse(load("04-succeeded"))));
    const c = recordHash(toConvexRecord(jobRecordV1.parse({ ...load("04-succeeded"), error: "x" })));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe("jobJsonFieldName", () => {
  it.each([
    ["renderSizeHint", "render_size_hint"],
    ["internalAssetType", "type"],
    ["jobId", "id"],
    ["telemetry.a.b", "telemetry.a.b"],
    ["component.manifest.states[3]", "component.manifest.states[3]"],
    ["progressStage", "progress_stage"],
  ])("jobJsonFieldName › %s is %s in job.json", (convex, local) => {
    expect(jobJsonFieldName(convex)).toBe(local);
  });
});
