import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { MAX_COMMIT_BATCH } from "../../convex/lib/commitJob.js";
import { CommitBatcher, commitPolicy } from "../../src/engine/CommitBatcher.js";
import { COMMIT_BATCH_TARGET } from "../../src/timing.js";
import { classifyError, FunctionFailure, HttpStatusError } from "../../src/errors/classifyError.js";
import type { CommitArgs, CommitResult } from "../../src/remote/ConvexGateway.js";
import { waitFor } from "../helpers/waitFor.js";

function args(jobId: string, over: Partial<CommitArgs> = {}): CommitArgs {
  return { job: { jobId } as CommitArgs["job"], recordHash: `h-${jobId}`, assets: [], ...over };
}

function resultOf(c: CommitArgs): CommitResult {
  return {
    outcome: "created",
    assetsChanged: c.assets.length,
    assetsRemoved: 0,
    state: { jobId: c.job.jobId, updatedAtUs: 1, recordHash: c.recordHash, sourceHash: null, status: "succeeded", assets: [] },
  };
}

/**
 * A gateway that records what it is sent. `refuse(jobId)` makes the functions refuse that job
 * (a batch holding it throws, as one transaction does); `batchError` fails every batch with it;
 * `hold` keeps calls in flight until released.
 */
function fakeGateway(opts: { refuse?: (jobId: string) => unknown; batchError?: unknown } = {}) {
  const sent: Array<{ fn: "commit" | "commitMany"; jobIds: string[]; at: number }> = [];
  let release: (() => void) | null = null;
  let held: Promise<void> | null = null;
  const answer = async (fn: "commit" | "commitMany", commits: CommitArgs[]) => {
    sent.push({ fn, jobIds: commits.map((c) => c.job.jobId), at: performance.now() });
    if (held) await held;
    if (fn === "commitMany" && opts.batchError !== undefined) throw opts.batchError;
    for (const c of commits) {
      const refusal = opts.refuse?.(c.job.jobId);
      if (refusal !== undefined) throw refusal;
    }
    return commits.map(resultOf);
  };
  return {
    sent,
    hold: () => {
      held = new Promise<void>((r) => (release = r));
    },
    release: () => {
      held = null;
      release?.();
    },
    commit: async (c: CommitArgs) => (await answer("commit", [c]))[0]!,
    commitMany: (cs: CommitArgs[]) => answer("commitMany", cs),
  };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe("CommitBatcher", () => {
  it("CommitBatcher › commits arriving together go out as one commitMany, each caller getting its own result", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g);
    const got = await Promise.all(["a", "b", "c"].map((id) => b.commit(args(id))));
    expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([["commitMany", ["a", "b", "c"]]]);
    expect(got.map((r) => r.state?.jobId)).toEqual(["a", "b", "c"]);
  });

  it("CommitBatcher › a lone commit goes out as sync:commit after the window, no later", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { windowMs: 2 });
    const asked = performance.now();
    const r = await b.commit(args("a"));
    expect(r.state?.jobId).toBe("a");
    expect(g.sent.map((s) => s.fn)).toEqual(["commit"]);
    // The window is 2 ms; a loaded machine's timers may be late, never by this much.
    expect(g.sent[0]!.at - asked).toBeLessThan(50);
  });

  it("CommitBatcher › a commit waits for one that is coming (its job still uploading), and both go out together", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { windowMs: 1, maxWaitMs: 10_000 });
    const coming = b.expectCommit();
    const first = b.commit(args("a"));
    // Past the 1 ms window, as a loaded machine's late turn would be: "a" waits only for "b".
    const since = performance.now();
    await waitFor(() => performance.now() - since > 5, { intervalMs: 1, what: "the window to pass" });
    expect(g.sent).toEqual([]);
    // As a reconcile does: says it is no longer coming, then commits in the same turn.
    coming();
    await Promise.all([first, b.commit(args("b"))]);
    expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([["commitMany", ["a", "b"]]]);
  });

  it("CommitBatcher › a commit waits for those coming no longer than the longest wait", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { windowMs: 1, maxWaitMs: 20 });
    const coming = b.expectCommit();
    try {
      const asked = performance.now();
      await b.commit(args("a"));
      expect(g.sent.map((s) => s.fn)).toEqual(["commit"]);
      expect(g.sent[0]!.at - asked).toBeGreaterThanOrEqual(19);
    } finally {
      coming();
    }
  });

  it("CommitBatcher › while a batch flies, what arrives waits for it and then goes out together", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { lanes: 1 });
    g.hold();
    const first = b.commit(args("a"));
    await waitFor(() => g.sent.length === 1, { what: "the first commit sent" });
    const later = ["b", "c", "d"].map((id) => b.commit(args(id)));
    g.release();
    await Promise.all([first, ...later]);
    expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([
      ["commit", ["a"]],
      ["commitMany", ["b", "c", "d"]],
    ]);
  });

  it("CommitBatcher › a batch that holds its target leaves at once, whatever is still coming", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { windowMs: 1, maxWaitMs: 10_000, targetJobs: 3 });
    const coming = b.expectCommit();
    try {
      const asked = performance.now();
      await Promise.all(["a", "b", "c"].map((id) => b.commit(args(id))));
      expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([["commitMany", ["a", "b", "c"]]]);
      expect(g.sent[0]!.at - asked).toBeLessThan(1_000);
    } finally {
      coming();
    }
  });

  it("CommitBatcher › with two lanes, a batch leaves while the previous one is still in flight", async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { lanes: 2 });
    g.hold();
    const first = b.commit(args("a"));
    await waitFor(() => g.sent.length === 1, { what: "the first commit sent" });
    const second = b.commit(args("b"));
    await waitFor(() => g.sent.length === 2, { what: "the second commit sent while the first flies" });
    g.release();
    await Promise.all([first, second]);
    expect(g.sent.map((s) => s.jobIds)).toEqual([["a"], ["b"]]);
  });

  it("CommitBatcher › the backfill's policy waits for the commits coming up to its target; the daemon's commits leave at once, alone", async () => {
    expect(commitPolicy("backfill")).toMatchObject({ targetJobs: COMMIT_BATCH_TARGET });
    expect(commitPolicy("backfill").maxWaitMs).toBeGreaterThan(0);
    const g = fakeGateway();
    const live = new CommitBatcher(g, commitPolicy("watch"));
    const coming = live.expectCommit(); // another job still uploading
    try {
      const both = [live.commit(args("live-1")), live.commit(args("live-2"))];
      // Sent in the same turn they were made, no timer, no batch-mate awaited.
      expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([
        ["commit", ["live-1"]],
        ["commit", ["live-2"]],
      ]);
      await Promise.all(both);
    } finally {
      coming();
    }
  });

  it(`CommitBatcher › a batch holds at most ${MAX_COMMIT_BATCH} jobs, the asset rows and the bytes allowed; a job too large for a batch goes alone`, async () => {
    const g = fakeGateway();
    const b = new CommitBatcher(g, { lanes: 4, targetJobs: MAX_COMMIT_BATCH, maxFiles: 4, maxBytes: 2_000 });
    const many = Array.from({ length: MAX_COMMIT_BATCH + 3 }, (_, i) => b.commit(args(`j${i}`)));
    await Promise.all(many);
    expect(g.sent.map((s) => s.jobIds.length)).toEqual([MAX_COMMIT_BATCH, 3]);

    g.sent.length = 0;
    const asset = {
      role: "output_png",
      filename: "x.png",
      storageId: "s",
      contentType: "image/png",
      bytes: 1,
      sha256: "x",
      sourceMtimeMs: 1,
    };
    const files = (n: number) => Array.from({ length: n }, () => asset) as CommitArgs["assets"];
    await Promise.all([
      b.commit(args("a", { assets: files(3) })),
      b.commit(args("b", { assets: files(2) })), // 5 rows with a's: the next batch
      b.commit(args("big", { recordHash: "x".repeat(3_000) })), // over the bytes alone
      b.commit(args("c")),
    ]);
    expect(g.sent.map((s) => s.jobIds)).toEqual([["a"], ["b"], ["big"], ["c"]]);
    expect(g.sent.find((s) => s.jobIds[0] === "big")!.fn).toBe("commit");
  });

  it("CommitBatcher › a job's own refusal fails that job alone: the batch's jobs are committed one by one", async () => {
    const missing = new ConvexError({ code: "MISSING_ASSET", jobId: "b", filename: "x.png", message: "job b: no asset for x.png" });
    const g = fakeGateway({ refuse: (id) => (id === "b" ? missing : undefined) });
    const b = new CommitBatcher(g);
    const got = await Promise.all(["a", "b", "c"].map((id) => settle(b.commit(args(id)))));
    expect(got.map((r) => r.ok)).toEqual([true, false, true]);
    expect(got[1]).toMatchObject({ ok: false, error: missing });
    expect(g.sent.map((s) => [s.fn, s.jobIds])).toEqual([
      ["commitMany", ["a", "b", "c"]],
      ["commit", ["a"]],
      ["commit", ["b"]],
      ["commit", ["c"]],
    ]);
  });

  it("CommitBatcher › a data-less Server Error (a batch over a limit, or one job's) is split too", async () => {
    const g = fakeGateway({ batchError: new FunctionFailure("sync:commitMany", "[Request ID: 1] Server Error") });
    const b = new CommitBatcher(g);
    const got = await Promise.all(["a", "b"].map((id) => b.commit(args(id))));
    expect(got.map((r) => r.state?.jobId)).toEqual(["a", "b"]);
    expect(g.sent.map((s) => s.fn)).toEqual(["commitMany", "commit", "commit"]);
  });

  it.each([
    ["an OCC conflict", new HttpStatusError(503, '{"code":"OptimisticConcurrencyControlFailure","message":"…"}'), "transient"],
    ["a 429", new HttpStatusError(429, '{"code":"TooManyConcurrentRequests","message":"…"}', 1000), "transient"],
    ["no answer", Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }), "outage"],
    ["a refused token", new ConvexError({ code: "UNAUTHORIZED", message: "bad token" }), "fatal"],
  ])("CommitBatcher › %s on a batch is every job's error, not split", async (_label, error, kind) => {
    const g = fakeGateway({ batchError: error });
    const b = new CommitBatcher(g);
    const got = await Promise.all(["a", "b", "c"].map((id) => settle(b.commit(args(id)))));
    for (const r of got) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(classifyError(r.error).kind).toBe(kind);
    }
    expect(g.sent.map((s) => s.fn)).toEqual(["commitMany"]);
  });
});
