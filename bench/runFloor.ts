/**
 * The physical floor of a backfill: read every byte, sha256 it, and POST it to the stand-in's
 * upload URL with its Digest, with the daemon's concurrency (`concurrency` jobs at once, a
 * job's files in parallel) and no Convex logic at all: no state query, no commit, no listing
 * or parsing (the file list is given). Files up to 64 MiB are read once into memory; larger
 * ones are streamed twice (hash, then post), as a Digest header must precede the body.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import http from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import type { FlowResult } from "./runSeedFlow.js";
import type { AssetFile } from "./writeFinishedJobs.js";

const generateUploadUrls = makeFunctionReference<"mutation">("assets:generateUploadUrls");
const IN_MEMORY_MAX = 64 * 1024 * 1024;

async function post(url: URL, body: Buffer | Readable, bytes: number, sha256: Buffer, contentType: string): Promise<void> {
  const req = http.request(url, {
    method: "POST",
    headers: { "Content-Type": contentType, "Content-Length": String(bytes), Digest: `sha-256=${sha256.toString("base64")}` },
  });
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  if (Buffer.isBuffer(body)) req.end(body);
  else await pipeline(body, req);
  const res = await answered;
  let text = "";
  for await (const c of res) text += String(c);
  if (res.statusCode !== 200) throw new Error(`floor: upload answered ${res.statusCode}: ${text}`);
}

async function sendFile(url: URL, file: AssetFile): Promise<number> {
  const { size } = await stat(file.path);
  if (size <= IN_MEMORY_MAX) {
    const bytes = await readFile(file.path);
    await post(url, bytes, bytes.length, createHash("sha256").update(bytes).digest(), file.contentType);
    return bytes.length;
  }
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file.path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  await post(url, createReadStream(file.path, { highWaterMark: 1 << 20 }), size, hash.digest(), file.contentType);
  return size;
}

export async function runFloor(opts: {
  url: string;
  token: string;
  jobs: Array<{ assets: AssetFile[] }>;
  concurrency: number;
}): Promise<FlowResult> {
  const client = new ConvexHttpClient(opts.url, { logger: false });
  const started = performance.now();
  const [uploadUrl] = (await client.mutation(generateUploadUrls, { serviceToken: opts.token, count: 1 })) as string[];
  const url = new URL(uploadUrl!);
  let files = 0;
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < opts.jobs.length) {
      const job = opts.jobs[next++]!;
      const sizes = await Promise.all(job.assets.map((f) => sendFile(url, f)));
      files += sizes.length;
      bytes += sizes.reduce((a, b) => a + b, 0);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { jobs: opts.jobs.length, files, bytes, ms: performance.now() - started };
}
