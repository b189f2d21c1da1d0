import { describe, expect, it } from "vitest";
import type { JobRecordInput } from "../../convex/lib/jobStore.js";
import { stringifyPythonJson } from "../../src/local/pythonJson.js";
import { comparePublicJob } from "../../src/ops/comparePublicJob.js";

const JOBS_DIR = "/srv/celstate/jobs";
const ID = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";
const URL = (n: string) => `http://127.0.0.1:3210/api/storage/${n}`;

/** A record spec: the daemon's fields, with the component given as an object. */
type Spec = Partial<JobRecordInput> & { component?: unknown };

/** The record as the daemon sends it: a `component` object given here travels as its text. */
function localRecord(over: Spec = {}): JobRecordInput {
  const { component, ...rest } = localObject(over);
  return { ...rest, componentJson: component === null || component === undefined ? null : stringifyPythonJson(component) };
}

/** What getPublic serves: a `component` object given here is served as its text. */
function wire(pub: unknown): unknown {
  if (pub === null || typeof pub !== "object") return pub;
  const p = pub as Record<string, unknown>;
  return p.component !== null && typeof p.component === "object" ? { ...p, component: stringifyPythonJson(p.component) } : p;
}

function localObject(over: Spec = {}): Omit<JobRecordInput, "componentJson"> & { component?: unknown } {
  return {
    jobId: ID,
    status: "succeeded",
    internalAssetType: "container",
    prompt: "a mossy stone frame",
    createdAt: 1795183391482,
    updatedAt: 1795183421377,
    createdAtIso: "2026-11-20T14:03:11.482913+00:00",
    updatedAtIso: "2026-11-20T14:03:41.377820+00:00",
    progressStage: "completed",
    component: {
      manifest: { version: "0.1", id: "frame", type: "static", states: { idle: { clip: "frame.png", loop: false } }, transitions: [] },
      assets: { "frame.png": null, "frame_mask.png": null, "frame_debug.png": null },
      telemetry: { alpha_coverage: 0.6412, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
    },
    error: null,
    ...over,
  };
}

function publicRecord(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jobId: ID,
    status: "succeeded",
    error: null,
    component: {
      manifest: { version: "0.1", id: "frame", type: "static", states: { idle: { clip: "frame.png", loop: false } }, transitions: [] },
      assets: { "frame.png": URL("a"), "frame_mask.png": URL("b"), "frame_debug.png": URL("c") },
      telemetry: { alpha_coverage: 0.6412, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
    },
    ...over,
  };
}

function withComponent(patch: (c: Record<string, unknown>) => void): Record<string, unknown> {
  const pub = publicRecord();
  const c = structuredClone(pub.component) as Record<string, unknown>;
  patch(c);
  return { ...pub, component: c };
}

type Case = {
  name: string;
  pub: unknown;
  local?: JobRecordInput;
  /** Fields of the expected mismatches, in order; [] when the records match. */
  fields: string[];
  /** Text the first mismatch's `expected` or `got` must contain. */
  says?: string;
  /** `pub` is passed as it is (not turned into what getPublic serves). */
  raw?: boolean;
};

const cases: Case[] = [
  { name: "matches a faithful public record, NaN and Infinity included", pub: publicRecord(), fields: [] },
  { name: "retryAfter absent on both sides is a match", pub: publicRecord(), local: localRecord(), fields: [] },
  {
    name: "retryAfter equal on both sides is a match",
    pub: publicRecord({ status: "failed", error: "[TraceID: x] Rate Limit Exceeded.", retryAfter: 30 }),
    local: localRecord({ status: "failed", error: "[TraceID: x] Rate Limit Exceeded.", retryAfter: 30 }),
    fields: [],
  },
  {
    name: "reports retryAfter present remotely but absent in job.json",
    pub: publicRecord({ retryAfter: 30 }),
    fields: ["retryAfter"],
    says: "absent",
  },
  {
    name: "reports retryAfter missing remotely",
    pub: publicRecord(),
    local: localRecord({ retryAfter: 30 }),
    fields: ["retryAfter"],
    says: "30",
  },
  {
    name: "reports a different retryAfter",
    pub: publicRecord({ retryAfter: 60 }),
    local: localRecord({ retryAfter: 30 }),
    fields: ["retryAfter"],
    says: "60",
  },
  {
    name: "reports NaN turned into null",
    pub: withComponent((c) => ((c.telemetry as Record<string, unknown>).edge_noise = null)),
    fields: ["component.telemetry.edge_noise"],
    says: "NaN",
  },
  {
    name: "reports Infinity turned into a large finite number",
    pub: withComponent((c) => ((c.telemetry as Record<string, unknown>).max_gradient = Number.MAX_VALUE)),
    fields: ["component.telemetry.max_gradient"],
    says: "Infinity",
  },
  {
    name: "tells -0 from 0 (Object.is)",
    pub: withComponent((c) => ((c.telemetry as Record<string, unknown>).alpha_coverage = 0)),
    local: localRecord({
      component: {
        ...(localObject().component as object),
        telemetry: { alpha_coverage: -0, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
      },
    }),
    fields: ["component.telemetry.alpha_coverage"],
  },
  { name: "reports a different status", pub: publicRecord({ status: "failed" }), fields: ["status"], says: '"failed"' },
  { name: "reports a different error", pub: publicRecord({ error: "[TraceID: x] boom" }), fields: ["error"], says: "boom" },
  {
    name: "reports a missing error field",
    pub: (() => {
      const p = publicRecord();
      delete p.error;
      return p;
    })(),
    fields: ["error"],
    says: "absent",
  },
  {
    name: "reports an extra top-level key",
    pub: publicRecord({ updatedAt: "2026-11-20T14:03:41.377820+00:00" }),
    fields: ["updatedAt"],
    says: "not exposed",
  },
  {
    name: "reports the internal asset type",
    pub: publicRecord({ internalAssetType: "container" }),
    fields: ["internalAssetType"],
    says: "internal asset type",
  },
  { name: "reports a top-level `type`", pub: publicRecord({ type: "container" }), fields: ["type"], says: "internal asset type" },
  { name: "reports an exposed trace", pub: publicRecord({ trace: URL("t") }), fields: ["trace"], says: "trace" },
  {
    name: "reports an internal key nested in the component",
    pub: withComponent((c) => ((c.manifest as Record<string, unknown>).internalAssetType = "container")),
    fields: ["component.manifest.internalAssetType", "component.manifest.internalAssetType"],
  },
  {
    name: "reports an asset without a URL (null placeholder left)",
    pub: withComponent((c) => ((c.assets as Record<string, unknown>)["frame_mask.png"] = null)),
    fields: ['component.assets["frame_mask.png"]'],
    says: "a URL",
  },
  {
    name: "reports an asset value that is not a URL",
    pub: withComponent((c) => ((c.assets as Record<string, unknown>)["frame.png"] = "frame.png")),
    fields: ['component.assets["frame.png"]'],
  },
  {
    name: "reports an asset job.json does not list",
    pub: withComponent((c) => ((c.assets as Record<string, unknown>)["trace.json"] = URL("t"))),
    fields: ['component.assets["trace.json"]'],
    says: "does not list",
  },
  {
    name: "reports a listed asset missing remotely",
    pub: withComponent((c) => delete (c.assets as Record<string, unknown>)["frame_debug.png"]),
    fields: ['component.assets["frame_debug.png"]'],
    says: "absent",
  },
  {
    name: "reports a changed manifest value by path",
    pub: withComponent((c) => ((c.manifest as Record<string, unknown>).id = "other")),
    fields: ["component.manifest.id"],
    says: '"frame"',
  },
  {
    name: "reports an array of another length",
    pub: withComponent((c) => ((c.manifest as Record<string, unknown>).transitions = [1])),
    fields: ["component.manifest.transitions"],
    says: "array of 0",
  },
  { name: "reports a missing record", pub: null, fields: ["record"], says: "not in the deployment" },
  {
    name: "reports a component where job.json has none",
    pub: publicRecord(),
    local: localRecord({ component: null }),
    fields: ["component"],
  },
  {
    name: "accepts null for a null component",
    pub: publicRecord({ component: null }),
    local: localRecord({ component: null, status: "queued" }),
    fields: ["status"],
  },
  {
    name: "accepts an empty assets object for a component without assets",
    pub: publicRecord({ component: { manifest: { id: "m" }, assets: {} } }),
    local: localRecord({ component: { manifest: { id: "m" } } }),
    fields: [],
  },
  {
    name: "reports a string naming the local jobs folder",
    pub: publicRecord({ error: `open ${JOBS_DIR}/${ID}/outputs/frame.png failed` }),
    fields: ["error", "error"],
  },
  {
    name: "expects the public error with server paths made relative",
    pub: publicRecord({ status: "failed", error: "[TraceID: x] Could not read input images: studio/x_white.png (see model.bin)" }),
    local: localRecord({
      status: "failed",
      error: `[TraceID: x] Could not read input images: ${JOBS_DIR}/${ID}/studio/x_white.png (see /opt/models/model.bin)`,
    }),
    fields: [],
  },
  {
    name: "reports a server path of another folder (a copied history), whatever --jobs-dir says",
    pub: publicRecord({ error: "[TraceID: x] Could not read /var/old-host/jobs/abc/studio/x.png" }),
    local: localRecord({ error: "[TraceID: x] Could not read /var/old-host/jobs/abc/studio/x.png" }),
    fields: ["error", "error"],
    says: "x.png",
  },
  {
    name: "reports a component whose key order differs from job.json's",
    pub: publicRecord({
      component: {
        assets: { "frame.png": URL("a"), "frame_mask.png": URL("b"), "frame_debug.png": URL("c") },
        manifest: { version: "0.1", id: "frame", type: "static", states: { idle: { clip: "frame.png", loop: false } }, transitions: [] },
        telemetry: { alpha_coverage: 0.6412, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
      },
    }),
    fields: ["component (key order)"],
  },
  {
    name: "reports a component served as an object instead of text",
    pub: { ...publicRecord(), component: { manifest: {} } },
    raw: true,
    fields: ["component"],
    says: "JSON text",
  },
];

describe("comparePublicJob", () => {
  it.each(cases)("comparePublicJob › $name", ({ pub, local, fields, says, raw }) => {
    const { mismatches } = comparePublicJob(raw ? pub : wire(pub), local ?? localRecord(), { jobsDir: JOBS_DIR });
    expect(mismatches.map((m) => m.field)).toEqual(fields);
    if (says !== undefined) expect(`${mismatches[0]!.expected} | ${mismatches[0]!.got}`).toContain(says);
  });

  it("comparePublicJob › returns the asset URLs to download, in job.json's order", () => {
    const { assets } = comparePublicJob(wire(publicRecord()), localRecord(), { jobsDir: JOBS_DIR });
    expect(assets).toEqual([
      { filename: "frame.png", url: URL("a") },
      { filename: "frame_mask.png", url: URL("b") },
      { filename: "frame_debug.png", url: URL("c") },
    ]);
  });

  it("comparePublicJob › names the local path leak as such", () => {
    const { mismatches } = comparePublicJob(wire(publicRecord({ error: `at ${JOBS_DIR}/x` })), localRecord(), { jobsDir: JOBS_DIR });
    expect(mismatches[1]).toMatchObject({ field: "error", expected: "no local path" });
  });

  it("comparePublicJob › caps the list of differences in one job", () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const { mismatches } = comparePublicJob(wire(publicRecord(many)), localRecord(), { maxMismatches: 10 });
    expect(mismatches).toHaveLength(11);
    expect(mismatches[10]!.got).toContain("more differences");
  });
});
