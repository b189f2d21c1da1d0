/**
 * Downloads a URL and returns the sha256 and length of its body, streamed chunk by chunk: memory
 * stays bounded whatever the size of the asset. A non-2xx answer is an error naming the status.
 */
import { createHash } from "node:crypto";
import type { Digest } from "./compareAsset.js";

export class DownloadError extends Error {
  override readonly name = "DownloadError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type DownloadOptions = { timeoutMs: number; signal?: AbortSignal; fetch?: typeof fetch };

export async function downloadDigest(url: string, opts: DownloadOptions): Promise<Digest> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { signal });
  } catch (e) {
    throw new DownloadError(`download failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadError(`download failed: HTTP ${res.status}`, res.status);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw new DownloadError(`download failed after ${bytes} bytes: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    reader.releaseLock();
  }
  return { sha256: hash.digest("hex"), bytes };
}
