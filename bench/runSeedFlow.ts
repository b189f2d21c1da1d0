/**
 * The seed's sync flow, re-created faithfully as the baseline: strictly one request at a time,
 * per job one `jobs:upsert`, then per asset `assets:generateUploadUrl`, a POST of the bytes and
 * `assets:save`. It reads jobs with the daemon's own reader (same records, same files, same
 * roles), so the only difference measured is the protocol and its concurrency.
 */
import { planShapeOf } from "../tests/helpers/planShape.js";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { DEFAULT_ASSET_RULES } from "../src/local/defaultAssetRules.js";
import { readLocalJob } from "../src/local/readJob.js";

const upsert = makeFunctionReference<"mutation">("jobs:upsert");
const generateUploadUrl = makeFunctionReference<"mutation">("assets:generateUploadUrl");
const save = makeFunctionReference<"mutation">("assets:save");

export type FlowResult = { jobs: number; files: number; bytes: number; ms: number };

export async function runSeedFlow(opts: { url: string; token: string; jobsDir: string; jobIds: string[] }): Promise<FlowResult> {
  const client = new ConvexHttpClient(opts.url, { logger: false });
  const serviceToken = opts.token;
  let files = 0;
  let bytes = 0;
  const started = performance.now();
  for (const jobId of opts.jobIds) {
    const local = await readLocalJob(opts.jobsDir, jobId, DEFAULT_ASSET_RULES);
    await client.mutation(upsert, { serviceToken, ...planShapeOf(local.record) });
    for (const file of local.files) {
      const uploadUrl = (await client.mutation(generateUploadUrl, { serviceToken })) as string;
      const body = await readFile(file.absPath);
      const res = await fetch(uploadUrl, { method: "POST", headers: { "Content-Type": file.contentType }, body });
      if (!res.ok) throw new Error(`seed flow: upload of ${jobId}/${file.relPath} answered ${res.status}: ${await res.text()}`);
      const { storageId } = (await res.json()) as { storageId: string };
      await client.mutation(save, {
        serviceToken,
        jobId,
        role: file.role,
        filename: file.filename,
        storageId,
        contentType: file.contentType,
        bytes: body.length,
        sha256: createHash("sha256").update(body).digest("hex"),
        sourceMtimeMs: file.mtimeMs,
      });
      files++;
      bytes += body.length;
    }
  }
  return { jobs: opts.jobIds.length, files, bytes, ms: performance.now() - started };
}
