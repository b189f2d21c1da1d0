/**
 * The Convex client's fetch (src/remote/nodeFetch.ts) against a local server: what the client
 * reads of an answer, and failures in the shapes classifyError knows.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classifyError } from "../../src/errors/classifyError.js";
import { nodeFetch } from "../../src/remote/nodeFetch.js";

let server: http.Server;
let base: string;
const received: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
/** Requests to /hang are never answered (until the server closes). */
const hanging: http.ServerResponse[] = [];

beforeEach(async () => {
  received.length = 0;
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === "/hang") {
        hanging.push(res);
        return;
      }
      if (req.url === "/busy") {
        res.writeHead(429, { "retry-after": "3", "content-type": "text/plain" });
        res.end("TooManyConcurrentRequests");
        return;
      }
      if (req.url === "/empty") {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"] });
      res.end(JSON.stringify({ status: "success", value: "héllo" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const res of hanging.splice(0)) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("nodeFetch", () => {
  it("nodeFetch › sends the method, headers and body with its length, and answers a standard Response", async () => {
    const body = JSON.stringify({ path: "sync:handshake", args: [{ name: "ünïcode" }] });
    const res = await nodeFetch(5_000)(`${base}/api/query`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("set-cookie")).toContain("a=1");
    expect(await res.json()).toEqual({ status: "success", value: "héllo" });
    expect(received).toEqual([
      expect.objectContaining({
        method: "POST",
        url: "/api/query",
        body,
        headers: expect.objectContaining({ "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }),
      }),
    ]);
  });

  it("nodeFetch › a refusal keeps its status, body and Retry-After; an answer without a body is empty", async () => {
    const busy = await nodeFetch(5_000)(`${base}/busy`, { method: "POST", body: "{}" });
    expect(busy.ok).toBe(false);
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("3");
    expect(await busy.text()).toBe("TooManyConcurrentRequests");
    const empty = await nodeFetch(5_000)(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
  });

  it("nodeFetch › no answer within the limit is a TimeoutError, classified TIMEOUT", async () => {
    const e = await nodeFetch(100)(`${base}/hang`, { method: "POST", body: "{}" }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: "TimeoutError" });
    expect(classifyError(e).code).toBe("TIMEOUT");
  });

  it("nodeFetch › the caller's abort ends the request with the signal's reason", async () => {
    const controller = new AbortController();
    const pending = nodeFetch(5_000)(`${base}/hang`, { method: "POST", body: "{}", signal: controller.signal });
    const reason = new Error("shutting down");
    setImmediate(() => controller.abort(reason));
    await expect(pending).rejects.toBe(reason);
    const before = new AbortController();
    before.abort(reason);
    await expect(nodeFetch(5_000)(`${base}/api/query`, { signal: before.signal })).rejects.toBe(reason);
  });

  it("nodeFetch › a deployment that is not listening is fetch's network error with node's as its cause, classified as an outage", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await nodeFetch(5_000)(`http://127.0.0.1:${port}/api/query`, { method: "POST", body: "{}" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect(e).toMatchObject({ message: "fetch failed", cause: { code: "ECONNREFUSED" } });
    expect(classifyError(e).kind).toBe("outage");
  });
});
