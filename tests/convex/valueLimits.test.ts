/**
 * Records over Convex's value limits are refused by `jobs:upsert` and `sync:commit` with a
 * permanent `VALUE_LIMIT` naming the field, before anything is written. (convex-test enforces
 * none of these limits itself, so these tests see only the functions' own checks.) The deep
 * values go where each writer carries an object: the plan's `component`; the daemon's
 * `telemetry` (its component travels as text).
 */
import { ConvexError } from "convex/values";
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { findDocumentProblem, LIMITS } from "../../convex/lib/limits.js";
import {
  assetFor,
  type ConvexHarness,
  expectConvexError,
  hashed,
  loadSample,
  newConvexTest,
  planShapeOf,
  snapshotTables,
  storeBlob,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

const queued = loadSample("01-queued.job.json");
const jobId = queued.job.jobId;

/** An object `levels` levels deep: nest(1) = {}, nest(2) = {a: {}}, ... */
function nest(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

/** Arrays `levels` levels deep: nestArrays(1) = [], nestArrays(2) = [[]], ... */
function nestArrays(levels: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

/** A record with an object value: the plan's `component` (the daemon's `telemetry`, see viaCommit). */
type Spec = JobRecordInput & { component?: unknown };

function withComponent(component: unknown): Spec {
  return { ...queued.job, status: "running", component };
}

const viaUpsert = (t: ConvexHarness, { component, ...job }: Spec) =>
  t.mutation(api.jobs.upsert, { serviceToken: TOKEN, ...planShapeOf(job), ...(component === undefined ? {} : { component }) });

/** The daemon's record carries the object as `telemetry`. */
function asDaemonRecord({ component, ...job }: Spec): JobRecordInput {
  return component === undefined ? job : { ...job, telemetry: component };
}

const viaCommit = async (t: ConvexHarness, spec: Spec) =>
  await t.mutation(api.sync.commit, {
    serviceToken: TOKEN,
    ...hashed(asDaemonRecord(spec)),
    assets: [assetFor("extra.png", await storeBlob(t, "extra"))],
  });

/** The field a writer's error names: `component.…` for the plan's, `telemetry.…` for the daemon's. */
const fieldFor = (name: string, field: string) => (name === "sync:commit" ? field.replace(/^component/, "telemetry") : field);

const deepPath = (levels: number) => ["component", ...new Array<string>(levels - 1).fill("a")].join(".");

const CASES: Array<{ label: string; job: Spec; field: string; reason: RegExp }> = [
  {
    label: "a record over 1 MiB (huge prompt)",
    job: { ...queued.job, prompt: "x".repeat(LIMITS.documentBytes) },
    field: "prompt",
    reason: /1048576-byte document limit/,
  },
  {
    // The document is level 1 and `component` level 2: 16 levels of component make 17.
    label: "nesting deeper than 16 levels",
    job: withComponent(nest(16)),
    field: deepPath(16),
    reason: /nested deeper than/,
  },
  {
    label: "nesting through arrays",
    job: withComponent({ list: nestArrays(15) }),
    field: `component.list${"[0]".repeat(14)}`,
    reason: /nested deeper than/,
  },
  {
    label: "an array over 8192 elements",
    job: withComponent({ manifest: { points: new Array(LIMITS.arrayLength + 1).fill(0) } }),
    field: "component.manifest.points",
    reason: /8193 elements/,
  },
  {
    label: "an object over 1024 fields",
    job: { ...queued.job, telemetry: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`m${i}`, i])) },
    field: "telemetry",
    reason: /1025 fields/,
  },
];

/**
 * Field names the Convex value encoder itself refuses: the official client (and convex-test)
 * throw a plain Error while serialising the arguments, so such a record never reaches a
 * handler and never produces VALUE_LIMIT from a function. The daemon must run
 * `findDocumentProblem` locally first; these cases check both halves.
 */
const KEY_CASES: Array<{ label: string; job: Spec; field: string; reason: RegExp }> = [
  {
    label: "a key starting with `$` inside component",
    job: withComponent({ manifest: { $ref: "#/x" }, assets: {} }),
    field: "component.manifest.$ref",
    reason: /starts with `\$`/,
  },
  {
    label: "a non-ASCII key",
    job: withComponent({ manifest: { größe: 1 } }),
    field: "component.manifest.größe",
    reason: /not printable ASCII/,
  },
  {
    label: "a control character in a key",
    job: withComponent({ manifest: { "tab\there": 1 } }),
    field: "component.manifest.tab\there",
    reason: /not printable ASCII/,
  },
  {
    label: "a key longer than 1024 characters",
    job: withComponent({ ["k".repeat(1025)]: 1 }),
    field: `component.${"k".repeat(1025)}`,
    reason: /longer than 1024/,
  },
];

describe.each([
  ["jobs:upsert", viaUpsert],
  ["sync:commit", viaCommit],
])("%s", (name, write) => {
  test.each(CASES)(`${name} › refuses $label with VALUE_LIMIT naming the field, writing nothing`, async ({ job, field, reason }) => {
    const t = newConvexTest();
    const before = await snapshotTables(t);
    const data = await expectConvexError(write(t, job), "VALUE_LIMIT");
    expect(data.field).toBe(fieldFor(name, field));
    expect(data.jobId).toBe(jobId);
    expect(data.message).toMatch(reason);
    expect(data.message).toContain(jobId);
    // Only the blob uploaded for the commit exists; no record, row or event.
    const after = await snapshotTables(t);
    expect({ ...after, _storage: [] }).toEqual({ ...before, _storage: [] });
  });

  test.each(KEY_CASES)(
    `${name} › $label never reaches the handler; findDocumentProblem names it for the daemon`,
    async ({ job, field, reason }) => {
      const t = newConvexTest();
      const before = await snapshotTables(t);
      let caught: unknown;
      await write(t, job).catch((e: unknown) => {
        caught = e;
      });
      expect(caught).toBeInstanceOf(Error);
      expect(caught).not.toBeInstanceOf(ConvexError);
      expect((caught as Error).message).toMatch(/^Field name /);
      const after = await snapshotTables(t);
      expect({ ...after, _storage: [] }).toEqual({ ...before, _storage: [] });
      const stored = name === "sync:commit" ? asDaemonRecord(job) : job;
      expect(findDocumentProblem({ ...stored, updatedAtUs: 0 })).toEqual({
        field: fieldFor(name, field),
        reason: expect.stringMatching(reason),
      });
    },
  );

  test.each([
    ["16 levels of nesting in all", withComponent(nest(15))],
    ["an array of exactly 8192 elements", withComponent({ points: new Array(LIMITS.arrayLength).fill(0) })],
    [
      "printable ASCII punctuation and spaces in keys",
      withComponent({ "a b-c_d.e~!@#%^&*()": 1, "": 2, _private: 3, [`${"k".repeat(1024)}`]: 4 }),
    ],
    ["a prompt that keeps the record just under 1 MiB", { ...queued.job, prompt: "x".repeat(LIMITS.documentBytes - 2048) }],
  ])(`${name} › accepts %s`, async (_label, job) => {
    const t = newConvexTest();
    const result = await write(t, job);
    expect(result).toMatchObject({ outcome: "created" });
  });
});
