/**
 * One streamed upload to a Convex upload URL: raw bytes (not multipart), `Content-Type` and
 * `Content-Length` set, and `Digest: sha-256=<base64>` so the deployment verifies that the
 * bytes it stored are the bytes we hashed (a mismatch is a 400 `Sha256Mismatch`, classified as
 * FILE_CHANGED). We do not hash a second time on the way out; we only count the bytes, so a
 * file that shrank or grew under us aborts the request before the server can accept it.
 * node:http is used instead of fetch for backpressure and an exact Content-Length.
 */
import http from "node:http";
import https from "node:https";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HttpStatusError } from "../errors/classifyError.js";
import { SyncError } from "../errors/SyncError.js";
import type { UploadBody } from "./ConvexGateway.js";

export async function uploadBlob(url: string, body: UploadBody, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const digest = Buffer.from(body.sha256Hex, "hex").toString("base64");
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const signal = AbortSignal.any(signals);

  let sent = 0;
  const verify = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (sent !== body.bytes) {
        done(new SyncError("FILE_CHANGED", `file changed during upload (sent ${sent} bytes, expected ${body.bytes})`));
      } else done();
    },
  });

  const req = client.request(target, {
    method: "POST",
    signal,
    headers: {
      "Content-Type": body.contentType,
      "Content-Length": String(body.bytes),
      Digest: `sha-256=${digest}`,
    },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  // The request's own error is reported through `response`; the pipeline only carries the body.
  const stream = async () => {
    if (body.data === undefined) return await pipeline(await body.open(), verify, req);
    if (body.data.length !== body.bytes) {
      throw new SyncError("FILE_CHANGED", `file changed during upload (sent ${body.data.length} bytes, expected ${body.bytes})`);
    }
    await new Promise<void>((resolve, reject) => req.end(body.data, () => resolve()).once("error", reject));
  };
  const sending = stream().catch((e: unknown) => {
    req.destroy(e as Error);
    throw e;
  });
  // An answer that came while the body was still going out (a 408 from the server's request
  // timeout, a 413) is the answer, whatever sending the rest of the body then ran into.
  const [answered, bodySent] = await Promise.allSettled([response, sending]);
  let res: http.IncomingMessage;
  if (answered.status === "fulfilled" && (bodySent.status === "fulfilled" || (answered.value.statusCode ?? 0) >= 300)) {
    res = answered.value;
  } else {
    const e: unknown = bodySent.status === "rejected" ? bodySent.reason : (answered as PromiseRejectedResult).reason;
    if (e instanceof SyncError) throw e;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    throw e;
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const ra = Number(res.headers["retry-after"]);
    throw new HttpStatusError(status, text, Number.isFinite(ra) ? ra * 1000 : undefined);
  }
  const parsed = JSON.parse(text) as { storageId?: unknown };
  if (typeof parsed.storageId !== "string") throw new HttpStatusError(status, `upload answered without storageId: ${text}`);
  return parsed.storageId;
}
