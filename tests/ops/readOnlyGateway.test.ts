import { describe, expect, it } from "vitest";
import { readOnlyGateway, ReadOnlyViolation } from "../../src/ops/readOnlyGateway.js";
import { FakeGateway } from "../helpers/fakeGateway.js";

const NO_WRITES = { generateUploadUrls: 0, upload: 0, commit: 0, commitMany: 0, collectGarbage: 0 };

describe("readOnlyGateway", () => {
  it("readOnlyGateway › passes reads through", async () => {
    const inner = new FakeGateway();
    const g = readOnlyGateway(inner);
    await g.handshake();
    expect(await g.getStates(["a", "b"])).toEqual([null, null]);
    await g.getPublic("a");
    await g.getRecord("a");
    await g.timeline("a");
    expect(inner.calls).toEqual({ handshake: 1, getStates: 1, getPublic: 1, getRecord: 1, timeline: 1, ...NO_WRITES });
    expect(g.stats().requests).toBe(5);
  });

  it("readOnlyGateway › refuses every write without reaching the gateway", async () => {
    const inner = new FakeGateway();
    const g = readOnlyGateway(inner);
    expect(() => g.generateUploadUrls(1)).toThrow(ReadOnlyViolation);
    expect(() => g.upload("u", { open: () => null as never, bytes: 0, sha256Hex: "", contentType: "" })).toThrow(ReadOnlyViolation);
    expect(() => g.commit({ job: null as never, recordHash: "", assets: [] })).toThrow(/must not change the deployment/);
    expect(() => g.commitMany([])).toThrow(ReadOnlyViolation);
    expect(() => g.collectGarbage(0)).toThrow(ReadOnlyViolation);
    expect(inner.stats().requests).toBe(0);
  });
});
