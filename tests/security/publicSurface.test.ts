/**
 * `jobs:getPublic` is the one function anyone may call, so what it returns is public. It must
 * return exactly {jobId, status, error, component} (+ retryAfter when set), with the component's
 * asset placeholders replaced by URLs, and nothing internal anywhere in the answer: no asset
 * type, stage, top-level telemetry, hashes, storage ids, timestamps, prompt, local paths, trace.
 * Checked on the raw HTTP answer, so nothing hides behind the client's decoding.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { jsonToConvex } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { listJobIds } from "../../src/local/listJobIds.js";
import { parsePublicComponent } from "../../src/remote/publicComponent.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, type Harness } from "../helpers/syncHarness.js";

/** Keys that only internal tables hold: finding one anywhere in a public answer is a leak. */
const INTERNAL_KEYS = [
  "internalAssetType",
  "progressStage",
  "progress_stage",
  "recordHash",
  "updatedAtUs",
  "updatedAt",
  "createdAt",
  "sha256",
  "storageId",
  "sourceMtimeMs",
  "contentType",
  "prompt",
  "styleContext",
  "layoutIntent",
  "renderSizeHint",
  "_id",
  "_creationTime",
];

let h: Harness;
const jobs: Record<string, PipelineJob> = {};

async function rawGetPublic(jobId: string): Promise<{ text: string; value: unknown }> {
  const res = await fetch(`${h.standin.url}/api/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ path: "jobs:getPublic", format: "convex_encoded_json", args: [{ jobId }] }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { status: string; value: unknown };
  expect(body.status).toBe("success");
  return { text, value: jsonToConvex(body.value as never) };
}

function keysDeep(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) {
    for (const x of v) keysDeep(x, out);
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysDeep(x, out);
    }
  }
  return out;
}

beforeAll(async () => {
  h = await createHarness();
  jobs.succeeded = new PipelineJob(h.jobsDir, { type: "container" });
  await jobs.succeeded.runToSuccess();
  jobs.rateLimited = new PipelineJob(h.jobsDir, { type: "decoration" });
  await jobs.rateLimited.queued();
  await jobs.rateLimited.running();
  await jobs.rateLimited.failed("Rate Limit Exceeded. Please try again later.", 42);
  jobs.processing = new PipelineJob(h.jobsDir, { type: "texture" });
  await jobs.processing.queued();
  await jobs.processing.running();
  await jobs.processing.processing();
  jobs.queued = new PipelineJob(h.jobsDir, { type: "effect" });
  await jobs.queued.queued();
  const config = h.config();
  const { summary } = await runBackfill({ config, gateway: h.gateway(config), log: h.log, jobIds: await listJobIds(h.jobsDir) });
  expect(summary.syncedNow).toBe(4);
});
afterAll(async () => {
  await h.cleanup();
});

describe("public surface", () => {
  it.each(["succeeded", "rateLimited", "processing", "queued"])(
    "jobs:getPublic › the %s job: exactly the public keys, retryAfter only when set",
    async (which) => {
      const job = jobs[which]!;
      const { value } = await rawGetPublic(job.id);
      const pub = value as Record<string, unknown>;
      const expected = ["component", "error", "jobId", "status", ...(job.record.retry_after === undefined ? [] : ["retryAfter"])].sort();
      expect(Object.keys(pub).sort()).toEqual(expected);
      expect(pub.jobId).toBe(job.id);
      expect(pub.status).toBe(job.record.status);
      expect(pub.error).toBe(job.record.error);
      if (job.record.retry_after !== undefined) expect(pub.retryAfter).toBe(job.record.retry_after);
    },
  );

  it.each(["succeeded", "rateLimited", "processing", "queued"])(
    "jobs:getPublic › the %s job: nothing internal anywhere in the raw answer",
    async (which) => {
      const job = jobs[which]!;
      const { text, value } = await rawGetPublic(job.id);
      const keys = keysDeep(value);
      for (const k of INTERNAL_KEYS) expect(keys.has(k), `${which}: key ${k}`).toBe(false);
      // Top-level telemetry is internal; the component's own telemetry is part of the component.
      expect(Object.keys(value as object)).not.toContain("telemetry");
      // Values that only the internal record holds.
      expect(text).not.toContain(String(job.record.type)); // the internal asset type
      expect(text).not.toContain(String(job.record.prompt));
      expect(text).not.toContain(String(job.record.style_context));
      expect(text).not.toContain(String(job.record.updated_at));
      expect(text).not.toContain(h.jobsDir);
      expect(text).not.toContain("trace.json");
      expect(text).not.toMatch(/_storage/);
      if (job.record.component !== null) {
        for (const name of job.assetNames) {
          const sha = createHash("sha256")
            .update(await readFile(path.join(job.dir, "outputs", name)))
            .digest();
          expect(text).not.toContain(sha.toString("hex"));
          expect(text).not.toContain(sha.toString("base64"));
        }
      }
    },
  );

  it("jobs:getPublic › every listed asset maps to a storage URL that serves it, and nothing else is listed", async () => {
    const { value } = await rawGetPublic(jobs.succeeded!.id);
    const assets = parsePublicComponent((value as { component: string }).component)!.assets!;
    expect(Object.keys(assets).sort()).toEqual([...jobs.succeeded!.assetNames].sort());
    for (const url of Object.values(assets)) expect(url).toMatch(new RegExp(`^${h.standin.url}/api/storage/[0-9a-f-]{36}$`));
  });

  it("jobs:getPublic › an unknown job is null, not an error that could reveal anything", async () => {
    const { value } = await rawGetPublic("00000000-0000-4000-8000-000000000000");
    expect(value).toBeNull();
  });
});
