import { readFileSync } from "node:fs";
import { componentTextOf } from "../../src/local/readJob.js";
import { parsePublicComponent } from "../../src/remote/publicComponent.js";
/**
 * `jobs:getPublic`'s exact shape for every real-format sample: the values are compared with
 * the job.json as Python wrote it (parsed independently of the daemon's mapping), so a field
 * renamed, dropped, added or leaked on the way shows up here.
 */
import { describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api.js";
import {
  assetFor,
  type ConvexHarness,
  JOB_SAMPLES,
  listedFilenames,
  loadSample,
  newConvexTest,
  readSampleBytes,
  storageUrl,
  storeBlob,
  TOKEN,
  useServiceToken,
} from "./convexHarness.js";

useServiceToken();

/** Commits a sample with one distinct blob per listed filename, plus the trace. */
async function commitSample(t: ConvexHarness, file: string) {
  const sample = loadSample(file);
  const assets = [];
  for (const f of listedFilenames(sample.job)) assets.push(assetFor(f, await storeBlob(t, `${file}:${f}`)));
  const trace = assetFor("trace.json", await storeBlob(t, readSampleBytes("06-trace.json")));
  assets.push(trace);
  await t.mutation(api.sync.commit, { serviceToken: TOKEN, job: sample.job, recordHash: sample.recordHash, assets });
  return { sample, assets, trace };
}

/** Every object key anywhere in a value. */
function allKeys(value: unknown, out = new Set<string>()): Set<string> {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      allKeys(v, out);
    }
  }
  return out;
}

test("jobs:getPublic › the samples folder holds the five job stages", () => {
  expect(JOB_SAMPLES).toHaveLength(5);
});

describe.each(JOB_SAMPLES)("jobs:getPublic › %s", (file) => {
  test(`jobs:getPublic › ${file}: exactly {jobId, status, error, component} (+ retryAfter only when retry_after is set)`, async () => {
    const t = newConvexTest();
    const { sample } = await commitSample(t, file);
    const raw = sample.raw;
    const pub = (await t.query(api.jobs.getPublic, { jobId: raw.id as string })) as Record<string, unknown>;
    const expectedKeys = ["component", "error", "jobId", "status"];
    if (raw.retry_after !== undefined && raw.retry_after !== null) expectedKeys.push("retryAfter");
    expect(Object.keys(pub).sort()).toEqual(expectedKeys.sort());
    expect(pub.jobId).toBe(raw.id);
    expect(pub.status).toBe(raw.status);
    expect(pub.error).toStrictEqual(raw.error);
    if ("retryAfter" in pub) expect(pub.retryAfter).toBe(raw.retry_after);
  });

  test(`jobs:getPublic › ${file}: the component is the sample's, with assets mapped to their URLs`, async () => {
    const t = newConvexTest();
    const { sample, assets } = await commitSample(t, file);
    const raw = sample.raw;
    const served = (await t.query(api.jobs.getPublic, { jobId: raw.id as string }))!;
    const pub = { component: parsePublicComponent(served.component) as unknown };
    if (raw.component === null) {
      expect(pub.component).toBeNull();
      return;
    }
    const rawComponent = raw.component as { assets: Record<string, null>; telemetry?: Record<string, number> };
    const urls: Record<string, string> = {};
    for (const f of Object.keys(rawComponent.assets)) {
      const row = assets.find((a) => a.filename === f)!;
      urls[f] = (await storageUrl(t, row.storageId))!;
    }
    expect(Object.values(urls).every((u) => typeof u === "string" && u.length > 0)).toBe(true);
    expect(new Set(Object.values(urls)).size).toBe(Object.keys(urls).length);
    // Deep equality with the raw component: manifest untouched, nothing added or dropped.
    expect(pub.component).toStrictEqual({ ...rawComponent, assets: urls });
    // Keys in job.json's order, and every byte of the sample's text but the placeholders.
    expect(Object.keys(pub.component as object)).toEqual(Object.keys(rawComponent));
    expect(Object.keys((pub.component as { assets: object }).assets)).toEqual(Object.keys(rawComponent.assets));
    let expectedText = componentTextOf(readFileSync(new URL(`../fixtures/samples/${file}`, import.meta.url), "utf8"))!;
    for (const [f, u] of Object.entries(urls))
      expectedText = expectedText.replace(`${JSON.stringify(f)}: null`, `${JSON.stringify(f)}: ${JSON.stringify(u)}`);
    expect(served.component).toBe(expectedText);
    const telemetry = (pub.component as { telemetry: Record<string, number> }).telemetry;
    expect(Number.isNaN(telemetry.edge_noise)).toBe(true);
    expect(telemetry.max_gradient).toBe(Number.POSITIVE_INFINITY);
  });

  test(`jobs:getPublic › ${file}: nothing internal leaks (type, stage, telemetry, hashes, trace, paths)`, async () => {
    const t = newConvexTest();
    const { sample, assets, trace } = await commitSample(t, file);
    const pub = await t.query(api.jobs.getPublic, { jobId: sample.job.jobId });
    const topLevel = Object.keys(pub as object);
    for (const k of [
      "internalAssetType",
      "type",
      "progressStage",
      "progress_stage",
      "telemetry",
      "recordHash",
      "updatedAtUs",
      "updatedAt",
      "createdAt",
      "prompt",
      "trace",
    ]) {
      expect(topLevel).not.toContain(k);
    }
    const keys = allKeys(pub);
    for (const k of ["internalAssetType", "recordHash", "updatedAtUs", "sha256", "storageId", "sourceMtimeMs", "_id", "_creationTime"]) {
      expect(keys.has(k), k).toBe(false);
    }
    const text = JSON.stringify(pub);
    expect(text).not.toContain((await storageUrl(t, trace.storageId))!);
    expect(text).not.toContain("trace.json");
    for (const a of assets) expect(text).not.toContain(a.sha256);
    expect(text).not.toMatch(/jobs\/|outputs\/|\/studio\//);
    // The projection does the work: the row itself does hold the internal fields.
    const row = await t.run(async (ctx) =>
      ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", sample.job.jobId))
        .unique(),
    );
    expect(row).toMatchObject({ internalAssetType: "container", recordHash: sample.recordHash });
  });
});

test("jobs:getPublic › queued and running samples without a component read component: null", async () => {
  for (const file of ["01-queued.job.json", "02-running.job.json"]) {
    const t = newConvexTest();
    const { sample } = await commitSample(t, file);
    const pub = (await t.query(api.jobs.getPublic, { jobId: sample.job.jobId })) as { status: string; component: unknown };
    expect(["queued", "running"]).toContain(pub.status);
    expect(pub.component).toBeNull();
  }
});
