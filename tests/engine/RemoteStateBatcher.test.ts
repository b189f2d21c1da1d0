import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { MAX_REMEMBERED, RemoteStateBatcher } from "../../src/engine/RemoteStateBatcher.js";
import type { RemoteJobState } from "../../src/remote/ConvexGateway.js";
import { FakeGateway } from "../helpers/fakeGateway.js";

function state(jobId: string): RemoteJobState {
  return { jobId, updatedAtUs: 1, recordHash: "h", sourceHash: null, status: "succeeded", assets: [] };
}

/** A FakeGateway holding a state for each of `ids`. */
function gatewayWith(ids: string[]): FakeGateway {
  const g = new FakeGateway();
  for (const id of ids) g.states.set(id, state(id));
  return g;
}

describe("RemoteStateBatcher", () => {
  it("RemoteStateBatcher › asks arriving together share one query, in order", async () => {
    const g = gatewayWith(["a", "c"]);
    const b = new RemoteStateBatcher(g, 10);
    const got = await Promise.all(["a", "missing-b", "c"].map((id) => b.get(id)));
    expect(got).toEqual([state("a"), null, state("c")]);
    expect(g.stateQueries).toEqual([["a", "missing-b", "c"]]);
  });

  it("RemoteStateBatcher › a full batch goes at once and the rest follows", async () => {
    const g = gatewayWith(["a", "b", "c"]);
    const b = new RemoteStateBatcher(g, 2);
    await Promise.all(["a", "b", "c"].map((id) => b.get(id)));
    expect(g.stateQueries).toEqual([["a", "b"], ["c"]]);
  });

  it("RemoteStateBatcher › a prefetched state serves exactly one get, then it reads fresh", async () => {
    const g = gatewayWith(["a", "b"]);
    const b = new RemoteStateBatcher(g, 10);
    await b.prefetch(["a", "b"]);
    expect(await b.get("a")).toEqual(state("a"));
    expect(g.stateQueries).toHaveLength(1);
    await b.get("a");
    expect(g.stateQueries).toHaveLength(2);
    b.forget("b");
    await b.get("b");
    expect(g.stateQueries).toHaveLength(3);
  });

  it("RemoteStateBatcher › a remembered (just committed) state serves one get; only the newest are kept", async () => {
    const g = gatewayWith(["a"]);
    const b = new RemoteStateBatcher(g, 2);
    const committed = { ...state("a"), recordHash: "committed" };
    b.remember("a", committed);
    expect(await b.get("a")).toEqual(committed);
    expect(g.stateQueries).toEqual([]);
    expect(await b.get("a")).toEqual(state("a"));
    expect(g.stateQueries).toEqual([["a"]]);

    const cap = MAX_REMEMBERED + 2 * 4;
    for (let i = 0; i <= cap; i++) b.remember(`j${i}`, state(`j${i}`));
    g.stateQueries.length = 0;
    await b.get("j0"); // the oldest went first
    await b.get(`j${cap}`);
    expect(g.stateQueries).toEqual([["j0"]]);
  });

  it("RemoteStateBatcher › a refused batch is split until it fits; one id's refusal is its own", async () => {
    const g = gatewayWith(["a", "b", "c", "d", "e"]);
    g.maxStatesPerQuery = 2;
    const b = new RemoteStateBatcher(g, 8);
    await b.prefetch(["a", "b", "c", "d", "e"]);
    expect(g.stateQueries.map((c) => c.length)).toEqual([5, 3, 2, 1, 2]);
    for (const id of ["a", "b", "c", "d", "e"]) expect(await b.get(id)).toEqual(state(id));
  });

  it("RemoteStateBatcher › an unreachable deployment or a refused token is not split but reported to every waiter", async () => {
    const down = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const g = gatewayWith(["a", "b"]);
    g.failNext("getStates", down);
    const b = new RemoteStateBatcher(g, 8);
    const results = await Promise.allSettled(["a", "b"].map((id) => b.get(id)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(g.stateQueries).toHaveLength(1);
    const g2 = gatewayWith(["a", "b"]);
    g2.failNext("getStates", new ConvexError({ code: "UNAUTHORIZED", message: "" }));
    const b2 = new RemoteStateBatcher(g2, 8);
    await expect(Promise.all([b2.get("a"), b2.get("b")])).rejects.toBeInstanceOf(ConvexError);
    expect(g2.stateQueries).toHaveLength(1);
  });
});
