import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError, downloadDigest } from "../../src/ops/downloadDigest.js";

const body = randomBytes(3 * 1024 * 1024 + 17);
let server: http.Server;
let base = "";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/blob") {
      res.writeHead(200, { "Content-Type": "image/png", "Content-Length": body.length });
      // Several writes: the reader must put the chunks together.
      for (let off = 0; off < body.length; off += 100_000) res.write(body.subarray(off, off + 100_000));
      res.end();
    } else if (req.url === "/cut") {
      res.writeHead(200, { "Content-Length": body.length });
      res.write(body.subarray(0, 1000), () => res.destroy());
    } else {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end('{"code":"FileNotFound"}');
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("downloadDigest", () => {
  it("downloadDigest › hashes and counts a streamed body", async () => {
    const d = await downloadDigest(`${base}/blob`, { timeoutMs: 10_000 });
    expect(d).toEqual({ sha256: createHash("sha256").update(body).digest("hex"), bytes: body.length });
  });

  it("downloadDigest › names the HTTP status of a missing blob", async () => {
    const err = await downloadDigest(`${base}/gone`, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).status).toBe(404);
    expect((err as Error).message).toContain("HTTP 404");
  });

  it("downloadDigest › fails on a body cut short", async () => {
    await expect(downloadDigest(`${base}/cut`, { timeoutMs: 10_000 })).rejects.toThrow(DownloadError);
  });
});
