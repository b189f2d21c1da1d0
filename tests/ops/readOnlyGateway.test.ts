import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { describe, expect, it } from "vitest";
import type { ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { readOnlyGateway, ReadOnlyViolation } from "../../src/ops/readOnlyGateway.js";

function fakeGateway(calls: string[]): ConvexGateway {
  const rec = (name: string) => async () => {
    calls.push(name);
    return undefined as never;
  };
  return {
    handshake: async () => {
      calls.push("handshake");
      return { apiVersion: API_VERSION, serverTimeMs: 0 };
    },
    getStates: async (ids) => {
      calls.push("getStates");
      return ids.map(() => null);
    },
    getPublic: async () => {
      calls.push("getPublic");
      return null;
    },
    getRecord: async () => {
      calls.push("getRecord");
      return null;
    },
    timeline: async () => {
      calls.push("timeline");
      return [];
    },
    generateUploadUrls: rec("generateUploadUrls"),
    upload: rec("upload"),
    commit: rec("commit"),
    commitMany: rec("commitMany"),
    collectGarbage: rec("collectGarbage"),
    stats: () => ({ requests: calls.length, byFunction: {}, uploads: 0, bytesUploaded: 0 }),
  };
}

describe("readOnlyGateway", () => {
  it("readOnlyGateway › passes reads through", async () => {
    const calls: string[] = [];
    const g = readOnlyGateway(fakeGateway(calls));
    await g.handshake();
    expect(await g.getStates(["a", "b"])).toEqual([null, null]);
    await g.getPublic("a");
    await g.getRecord("a");
    await g.timeline("a");
    expect(calls).toEqual(["handshake", "getStates", "getPublic", "getRecord", "timeline"]);
    expect(g.stats().requests).toBe(5);
  });

  it("readOnlyGateway › refuses every write without reaching the gateway", async () => {
    const calls: string[] = [];
    const g = readOnlyGateway(fakeGateway(calls));
    expect(() => g.generateUploadUrls(1)).toThrow(ReadOnlyViolation);
    expect(() => g.upload("u", { open: () => null as never, bytes: 0, sha256Hex: "", contentType: "" })).toThrow(ReadOnlyViolation);
    expect(() => g.commit({ job: null as never, recordHash: "", assets: [] })).toThrow(/must not change the deployment/);
    expect(() => g.commitMany([])).toThrow(ReadOnlyViolation);
    expect(() => g.collectGarbage(0)).toThrow(ReadOnlyViolation);
    expect(calls).toEqual([]);
  });
});
