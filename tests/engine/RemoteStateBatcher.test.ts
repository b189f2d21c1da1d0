import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { MAX_REMEMBERED, RemoteStateBatcher } from "../../src/engine/RemoteStateBatcher.js";
import type { RemoteJobState } from "../../src/remote/ConvexGateway.js";

function state(jobId: string): RemoteJobState {
  return { jobId, updatedAtUs: 1, recordHash: "h", sourceHash: null, status: "succeeded", assets: [] };
}

function fakeGateway(opts: { refuseOver?: number; fail?: unknown } = {}) {
  const calls: string[][] = [];
  return {
    calls,
    getStates: async (ids: string[]) => {
      calls.push(ids);
      if (opts.fail) throw opts.fail;
      if (opts.refuseOver !== undefined && ids.length > opts.refuseOver) {
        throw new Error("[Request ID: 1] Server Error: Too many bytes read in a single function execution");
      }
      return ids.map((id) => (id.startsWith("missing") ? null : state(id)));
    },
  };
}

describe("RemoteStateBatcher", () => {
  it("RemoteStateBatcher › asks arriving together share one query, in order", async () => {
    const g = fakeGateway();
    const b = new RemoteStateBatcher(g, 10);
    const got = await Promise.all(["a", "missing-b", "c"].map((id) => b.get(id)));
    expect(got).toEqual([state("a"), null, state("c")]);
    expect(g.calls).toEqual([["a", "missing-b", "c"]]);
  });

  it("RemoteStateBatcher › a full batch goes at once and the rest follows", async () => {
    const g = fakeGateway();
    const b = new RemoteStateBatcher(g, 2);
    await Promise.all(["a", "b", "c"].map((id) => b.get(id)));
    expect(g.calls).toEqual([["a", "b"], ["c"]]);
  });

  it("RemoteStateBatcher › a prefetched state serves exactly one get, then it reads fresh", async () => {
    const g = fakeGateway();
    const b = new RemoteStateBatcher(g, 10);
    await b.prefetch(["a", "b"]);
    expect(await b.get("a")).toEqual(state("a"));
    expect(g.calls).toHaveLength(1);
    await b.get("a");
    expect(g.calls).toHaveLength(2);
    b.forget("b");
    await b.get("b");
    expect(g.calls).toHaveLength(3);
  });

  it("RemoteStateBatcher › a remembered (just committed) state serves one get; only the newest are kept", async () => {
    const g = fakeGateway();
    const b = new RemoteStateBatcher(g, 2);
    const committed = { ...state("a"), recordHash: "committed" };
    b.remember("a", committed);
    expect(await b.get("a")).toEqual(committed);
    expect(g.calls).toEqual([]);
    expect(await b.get("a")).toEqual(state("a"));
    expect(g.calls).toEqual([["a"]]);

    const cap = MAX_REMEMBERED + 2 * 4;
    for (let i = 0; i <= cap; i++) b.remember(`j${i}`, state(`j${i}`));
    g.calls.length = 0;
    await b.get("j0"); // the oldest went first
    await b.get(`j${cap}`);
    expect(g.calls).toEqual([["j0"]]);
  });

  it("RemoteStateBatcher › a refused batch is split until it fits; one id's refusal is its own", async () => {
    const g = fakeGateway({ refuseOver: 2 });
    const b = new RemoteStateBatcher(g, 8);
    await b.prefetch(["a", "b", "c", "d", "e"]);
    expect(g.calls.map((c) => c.length)).toEqual([5, 3, 2, 1, 2]);
    for (const id of ["a", "b", "c", "d", "e"]) expect(await b.get(id)).toEqual(state(id));
  });

  it("RemoteStateBatcher › an unreachable deployment or a refused token is not split but reported to every waiter", async () => {
    const down = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const g = fakeGateway({ fail: down });
    const b = new RemoteStateBatcher(g, 8);
    const results = await Promise.allSettled(["a", "b"].map((id) => b.get(id)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(g.calls).toHaveLength(1);
    const g2 = fakeGateway({ fail: new ConvexError({ code: "UNAUTHORIZED", message: "" }) });
    const b2 = new RemoteStateBatcher(g2, 8);
    await expect(Promise.all([b2.get("a"), b2.get("b")])).rejects.toBeInstanceOf(ConvexError);
    expect(g2.calls).toHaveLength(1);
  });
});
