import http from "node:http";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkDeployment } from "../../src/remote/checkDeployment.js";
import { ConvexHttpGateway } from "../../src/remote/ConvexHttpGateway.js";
import { FunctionFailure } from "../../src/errors/classifyError.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { createHarness, type Harness, waitFor } from "../helpers/syncHarness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** The `clientTimeMs` each recorded handshake request carried. */
const clientTimes = (bodies: string[]) =>
  bodies.map((b) => (JSON.parse(b) as { args: Array<{ clientTimeMs: number }> }).args[0]!.clientTimeMs);

describe("checkDeployment", () => {
  it("checkDeployment › accepts the token and reports the API version and clock skew", async () => {
    const info = await checkDeployment(h.gateway());
    expect(info.apiVersion).toBe(API_VERSION);
    expect(Math.abs(info.clockSkewMs)).toBeLessThan(5_000);
  });

  it("checkDeployment › rides out a brief overload when given attempts, and not otherwise", async () => {
    h.standin.setFaults({ status: 503, count: 2, path: "sync:handshake" });
    await expect(checkDeployment(h.gateway())).rejects.toMatchObject({ code: "SERVER_ERROR" });
    await expect(checkDeployment(h.gateway(), { attempts: 4 })).resolves.toMatchObject({ apiVersion: API_VERSION });
  });

  it("checkDeployment › a refused token is final at once", async () => {
    const wrong = new ConvexHttpGateway({ url: h.standin.url, token: "nope", requestTimeoutMs: 5_000, uploadTimeoutMs: 5_000 });
    const before = h.standin.stats().functionCalls["sync:handshake"] ?? 0;
    await expect(checkDeployment(wrong, { attempts: 4 })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(h.standin.stats().functionCalls["sync:handshake"]).toBe(before + 1);
  });

  it("checkDeployment › a paused deployment is an outage to wait for, not API_MISMATCH", async () => {
    h.standin.setFaults({ paused: true });
    const e = await checkDeployment(h.gateway()).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: "SERVER_ERROR", kind: "outage" });
    h.standin.clearFaults();
    await expect(checkDeployment(h.gateway())).resolves.toMatchObject({ apiVersion: API_VERSION });
  });

  it("checkDeployment › a deployment without sync:handshake answers, and that is API_MISMATCH", async () => {
    const missing = new FakeGateway();
    // What Convex answers for a function that is not deployed (udf/src/validation.rs).
    const notDeployed = new FunctionFailure(
      "sync:handshake",
      "[Request ID: 7] Server Error\nCould not find public function for 'sync:handshake'. Did you forget to run `npx convex dev`?",
    );
    missing.failNext("handshake", notDeployed, Number.POSITIVE_INFINITY);
    await expect(checkDeployment(missing, { attempts: 4 })).rejects.toMatchObject({ code: "API_MISMATCH", kind: "fatal" });
  });

  it("checkDeployment › every handshake carries a fresh argument, so no cached answer (and stale clock) can come back", async () => {
    const bodies: string[] = [];
    // The function calls go out through node:http (src/remote/nodeFetch.ts): read each body sent.
    const realRequest = http.request;
    const spy = vi.spyOn(http, "request").mockImplementation(((...args: Parameters<typeof http.request>) => {
      const req = realRequest(...args);
      const end = req.end.bind(req) as (chunk?: unknown) => http.ClientRequest;
      req.end = ((chunk?: unknown) => {
        if (typeof chunk === "string" && chunk.includes("sync:handshake")) bodies.push(chunk);
        return end(chunk);
      }) as typeof req.end;
      return req;
    }) as typeof http.request);
    try {
      const gateway = h.gateway();
      await checkDeployment(gateway);
      // The second handshake goes once the clock has moved past the first one's argument.
      const first = clientTimes(bodies)[0]!;
      await waitFor(() => Date.now() > first, { intervalMs: 1, what: "the clock past the first handshake's" });
      await checkDeployment(gateway);
    } finally {
      spy.mockRestore();
    }
    const times = clientTimes(bodies);
    expect(times).toHaveLength(2);
    expect(times[1]!).toBeGreaterThan(times[0]!);
  });
});
