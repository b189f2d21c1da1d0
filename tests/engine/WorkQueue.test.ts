import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type WorkContext, WorkQueue, type WorkQueueOptions, type WorkResult } from "../../src/engine/WorkQueue.js";

// Each invariant in WorkQueue.ts's header is tested in the section named after it; the parts
// have their own tests too (KeyedQueue, SlotPool, OutageGate, retryPolicy).

// ── Harness ──────────────────────────────────────────────────────────────────────────────

type Deferred<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type Call = { key: string; ctx: WorkContext; at: number; result: Deferred<WorkResult> };

/**
 * A worker whose every call waits for the test to settle it. It records each call, and fails
 * the test's invariant checks if one key ever runs twice at once.
 */
function manualWorker() {
  const calls: Call[] = [];
  const running = new Set<string>();
  let overlapped: string | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = (key: string, ctx: WorkContext): Promise<WorkResult> => {
    if (running.has(key)) overlapped = key;
    running.add(key);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const result = deferred<WorkResult>();
    calls.push({ key, ctx, at: Date.now(), result });
    return result.promise.finally(() => {
      running.delete(key);
      inFlight -= 1;
    });
  };
  return {
    fn,
    calls,
    keys: () => calls.map((c) => c.key),
    callsOf: (key: string) => calls.filter((c) => c.key === key),
    last: (key: string) => {
      const found = calls.filter((c) => c.key === key).at(-1);
      if (!found) throw new Error(`no call for ${key}`);
      return found;
    },
    get overlapped() {
      return overlapped;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const DONE: WorkResult = { kind: "done" };
const retry = (message = "flaky", afterMs?: number): WorkResult =>
  afterMs === undefined ? { kind: "retry", error: new Error(message) } : { kind: "retry", error: new Error(message), afterMs };

class BackendDownError extends Error {}

function options(overrides: Partial<WorkQueueOptions> = {}): WorkQueueOptions {
  return {
    concurrency: 1,
    backoff: { baseMs: 100, maxMs: 10_000 },
    maxAttempts: 5,
    maxRetryMs: 60_000,
    onGiveUp: () => {},
    random: () => 0.5,
    ...overrides,
  };
}

/** Advance fake time (0 = just let promise callbacks and queued microtasks run). */
async function tick(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/**
 * Let callbacks run, and fake time move from one timer to the next, until `cond` holds; time
 * never moves past the moment it first holds. Fails with `what` instead of hanging. (Fake
 * time: the shared `waitFor` polls in real time and would never move these timers.)
 */
async function advanceUntil(cond: () => boolean, what: string, maxTimers = 1_000): Promise<void> {
  for (let i = 0; i < maxTimers; i++) {
    await tick();
    if (cond()) return;
    await vi.advanceTimersToNextTimerAsync();
  }
  throw new Error(`advanceUntil: ${what} never happened`);
}

function settledFlag(p: Promise<unknown>): { readonly done: boolean } {
  const flag = { done: false };
  void p.then(() => (flag.done = true));
  return flag;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

// ── Dedupe and per-key serialisation (invariants 1–4) ───────────────────────────────────

describe("WorkQueue › dedupe", () => {
  it("WorkQueue › 1,000 adds of a queued key run it once", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 1 }));
    q.add("blocker");
    await advanceUntil(() => w.calls.length === 1, "blocker starts");
    for (let i = 0; i < 1_000; i++) {
      q.add("a");
      if (i % 100 === 0) await tick(); // across ticks too, not only within one batch
    }
    expect(q.size).toBe(1);
    w.last("blocker").result.resolve(DONE);
    await advanceUntil(() => w.calls.length === 2, "a starts");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    await tick(1_000);
    expect(w.keys()).toEqual(["blocker", "a"]);
    expect(q.stats()).toMatchObject({ done: 2, queued: 0, running: 0 });
  });

  it("WorkQueue › a synchronous burst of adds into an idle queue collapses into one run", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 4 }));
    for (let i = 0; i < 1_000; i++) q.add("a");
    await advanceUntil(() => w.calls.length === 1, "a starts");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.calls).toHaveLength(1);
  });

  it("WorkQueue › an add during a run causes exactly one re-run after it, never a concurrent one", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 4 }));
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "first run starts");
    for (let i = 0; i < 50; i++) q.add("a");
    await tick();
    expect(w.calls).toHaveLength(1); // free slots, but "a" is running
    expect(q.pending).toBe(1);
    w.last("a").result.resolve(DONE);
    await advanceUntil(() => w.calls.length === 2, "re-run starts");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.calls).toHaveLength(2);
    expect(w.overlapped).toBeUndefined();
  });

  it("WorkQueue › a run that gives its slot back lets the next key start, and is never run twice at once", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 1 }));
    q.add("a");
    q.add("b");
    await advanceUntil(() => w.calls.length === 1, "a starts");
    await tick();
    expect(w.keys()).toEqual(["a"]); // one slot, held by a
    w.last("a").ctx.releaseSlot?.();
    await advanceUntil(() => w.calls.length === 2, "b starts in the slot a gave back");
    expect(w.keys()).toEqual(["a", "b"]);
    q.add("a"); // a is still running: marked for one re-run after it
    await tick();
    expect(w.callsOf("a")).toHaveLength(1);
    w.last("a").result.resolve(DONE);
    w.last("b").result.resolve(DONE);
    await advanceUntil(() => w.callsOf("a").length === 2, "a runs again");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.overlapped).toBeUndefined();
  });

  it("WorkQueue › without an add during the run there is no re-run", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "a starts");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    await tick(60_000);
    expect(w.calls).toHaveLength(1);
  });
});

// ── Priority ────────────────────────────────────────────────────────────────────────────

describe("WorkQueue › priority", () => {
  it("WorkQueue › a live key (priority 1) jumps ahead of the start-up backlog (priority 0)", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 1 }));
    for (let i = 0; i < 20; i++) q.add(`old-${i}`);
    await advanceUntil(() => w.calls.length === 1, "first backlog key starts");
    q.add("live", { priority: 1 });
    await tick();
    w.last("old-0").result.resolve(DONE);
    await advanceUntil(() => w.calls.length === 2, "next key starts");
    expect(w.calls[1]!.key).toBe("live");
  });

  it("WorkQueue › adding a queued key with a higher priority moves it up", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 1 }));
    q.add("blocker");
    await advanceUntil(() => w.calls.length === 1, "blocker starts");
    for (let i = 0; i < 5; i++) q.add(`old-${i}`);
    await tick();
    q.add("old-4", { priority: 1 });
    q.add("old-3", { priority: 0 }); // never moves a key down or duplicates it
    w.last("blocker").result.resolve(DONE);
    await advanceUntil(() => w.calls.length === 2, "next key starts");
    expect(w.calls[1]!.key).toBe("old-4");
    expect(q.size).toBe(4);
  });

  it("WorkQueue › a live key added in the same tick as a start-up burst takes one of the free slots", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ concurrency: 2 }));
    for (let i = 0; i < 100; i++) q.add(`old-${i}`);
    q.add("live", { priority: 1 });
    await advanceUntil(() => w.calls.length === 2, "two keys start");
    expect(w.keys()).toContain("live");
  });
});

// ── Retry, backoff, give-up (invariant 6) ───────────────────────────────────────────────

describe("WorkQueue › retry", () => {
  it("WorkQueue › retries with exponential full-jitter backoff and a growing attempt count", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ backoff: { baseMs: 100, maxMs: 10_000 }, random: () => 0.5 }));
    const t0 = Date.now();
    q.add("a");
    for (let n = 1; n <= 3; n++) {
      await advanceUntil(() => w.calls.length === n, `run ${n}`);
      w.last("a").result.resolve(retry());
    }
    await advanceUntil(() => w.calls.length === 4, "run 4");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    // random 0.5 of windows 100, 200, 400 ms
    expect(w.calls.map((c) => c.at - t0)).toEqual([0, 50, 150, 350]);
    expect(w.calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 3, 4]);
    expect(w.calls.map((c) => c.ctx.firstFailureAt)).toEqual([undefined, t0, t0, t0]);
    expect(q.stats()).toMatchObject({ retried: 3, done: 1, givenUp: 0 });
  });

  it("WorkQueue › the jitter comes from the random source: 0 retries at once, 0.99 near the window", async () => {
    for (const [random, expected] of [
      [0, [0, 0, 0]],
      [0.99, [0, 99, 297]],
    ] as const) {
      const w = manualWorker();
      const q = new WorkQueue(w.fn, options({ random: () => random }));
      const t0 = Date.now();
      q.add("a");
      for (let n = 1; n <= 2; n++) {
        await advanceUntil(() => w.calls.length === n, `run ${n}`);
        w.last("a").result.resolve(retry());
      }
      await advanceUntil(() => w.calls.length === 3, "run 3");
      w.last("a").result.resolve(DONE);
      await q.onIdle();
      expect(w.calls.map((c) => c.at - t0)).toEqual(expected);
    }
  });

  it("WorkQueue › a retry's afterMs is a floor under the backoff", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    const t0 = Date.now();
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry("429", 5_000));
    await tick(4_999);
    expect(w.calls).toHaveLength(1);
    await tick(1);
    await advanceUntil(() => w.calls.length === 2, "run 2");
    expect(w.last("a").at - t0).toBe(5_000);
  });

  it("WorkQueue › done forgets the failure history: the next failure starts at attempt 1 again", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    await advanceUntil(() => w.calls.length === 2, "run 2");
    expect(w.last("a").ctx.attempt).toBe(2);
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    q.add("a");
    await advanceUntil(() => w.calls.length === 3, "run 3");
    expect(w.last("a").ctx.attempt).toBe(1);
    expect(w.last("a").ctx.firstFailureAt).toBeUndefined();
  });

  it("WorkQueue › a worker that throws is retried like a returned retry", async () => {
    let calls = 0;
    const attempts: number[] = [];
    const q = new WorkQueue(async (_key, ctx) => {
      attempts.push(ctx.attempt);
      calls += 1;
      if (calls < 3) throw new Error("socket hang up");
      return DONE;
    }, options());
    q.add("a");
    await vi.runAllTimersAsync();
    await q.onIdle();
    expect(attempts).toEqual([1, 2, 3]);
    expect(q.stats()).toMatchObject({ retried: 2, done: 1 });
  });

  it("WorkQueue › a malformed result is a transient failure that names the key", async () => {
    const errors: unknown[] = [];
    const q = new WorkQueue(async () => ({ kind: "wait" }) as unknown as WorkResult, {
      ...options({ maxAttempts: 1 }),
      onGiveUp: (_key, error) => void errors.push(error),
    });
    q.add("job-1");
    await vi.runAllTimersAsync();
    expect(String(errors[0])).toContain("Expected the worker to return a WorkResult for `job-1`");
  });

  it("WorkQueue › gives up after maxAttempts, calls onGiveUp once, and forgets the key", async () => {
    const w = manualWorker();
    const onGiveUp = vi.fn();
    const q = new WorkQueue(w.fn, options({ maxAttempts: 3, onGiveUp }));
    q.add("a");
    for (let n = 1; n <= 3; n++) {
      await advanceUntil(() => w.calls.length === n, `run ${n}`);
      w.last("a").result.resolve(retry(`boom ${n}`));
    }
    await q.onIdle();
    await tick(60_000);
    expect(w.calls).toHaveLength(3);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    expect(onGiveUp).toHaveBeenCalledWith("a", new Error("boom 3"), 3);
    expect(q.stats()).toMatchObject({ givenUp: 1, retried: 2, backingOff: 0 });
    q.add("a");
    await advanceUntil(() => w.calls.length === 4, "fresh run");
    expect(w.last("a").ctx.attempt).toBe(1);
    expect(w.last("a").ctx.firstFailureAt).toBeUndefined();
  });

  it("WorkQueue › gives up when the first failure is older than maxRetryMs", async () => {
    const w = manualWorker();
    const onGiveUp = vi.fn();
    const q = new WorkQueue(
      w.fn,
      options({
        maxAttempts: 1_000,
        maxRetryMs: 1_000,
        backoff: { baseMs: 400, maxMs: 400 },
        random: () => 0.99,
        onGiveUp,
      }),
    );
    q.add("a");
    let runs = 0;
    while (onGiveUp.mock.calls.length === 0) {
      runs += 1;
      await advanceUntil(() => w.calls.length === runs, `run ${runs}`);
      w.last("a").result.resolve(retry());
      await tick();
      if (runs > 20) throw new Error("never gave up");
    }
    const first = w.calls[0]!.at;
    const times = w.calls.map((c) => c.at - first);
    // Runs every 396 ms; the run at 1,188 ms is the first to fail more than 1,000 ms after the first failure.
    expect(times).toEqual([0, 396, 792, 1_188]);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    expect(onGiveUp.mock.calls[0]![2]).toBe(4);
  });

  it("WorkQueue › failed is permanent: no retry, counted", async () => {
    const w = manualWorker();
    const onGiveUp = vi.fn();
    const q = new WorkQueue(w.fn, options({ onGiveUp }));
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run");
    w.last("a").result.resolve({ kind: "failed", error: new Error("job.json invalid") });
    await q.onIdle();
    await tick(60_000);
    expect(w.calls).toHaveLength(1);
    expect(onGiveUp).not.toHaveBeenCalled();
    expect(q.stats()).toMatchObject({ failed: 1, retried: 0, givenUp: 0 });
  });

  it("WorkQueue › wait runs again after afterMs without counting an attempt", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ maxAttempts: 1 }));
    const t0 = Date.now();
    q.add("a");
    for (let n = 1; n <= 3; n++) {
      await advanceUntil(() => w.calls.length === n, `run ${n}`);
      w.last("a").result.resolve({ kind: "wait", afterMs: 250 });
    }
    await advanceUntil(() => w.calls.length === 4, "run 4");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.calls.map((c) => c.at - t0)).toEqual([0, 250, 500, 750]);
    expect(w.calls.map((c) => c.ctx.attempt)).toEqual([1, 1, 1, 1]);
    expect(q.stats()).toMatchObject({ retried: 0, givenUp: 0, done: 1 });
  });

  it("WorkQueue › wait keeps the failure history: the attempt count goes on after it", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    await advanceUntil(() => w.calls.length === 2, "run 2");
    w.last("a").result.resolve({ kind: "wait", afterMs: 250 });
    await advanceUntil(() => w.calls.length === 3, "run 3");
    w.last("a").result.resolve(retry());
    await advanceUntil(() => w.calls.length === 4, "run 4");
    expect(w.calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 2, 3]);
    expect(new Set(w.calls.slice(1).map((c) => c.ctx.firstFailureAt)).size).toBe(1);
  });

  it("WorkQueue › onGiveUp runs while the key still counts as running; an add during it re-runs fresh", async () => {
    const w = manualWorker();
    const giveUp = deferred<void>();
    const q = new WorkQueue(w.fn, options({ maxAttempts: 1, concurrency: 2, onGiveUp: () => giveUp.promise }));
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    await tick();
    expect(q.pending).toBe(1);
    q.add("a"); // the failure marker's write wakes the watcher
    await tick();
    expect(w.calls).toHaveLength(1);
    giveUp.resolve();
    await advanceUntil(() => w.calls.length === 2, "fresh run");
    expect(w.last("a").ctx.attempt).toBe(1);
    expect(w.overlapped).toBeUndefined();
  });
});

// ── Timers: add during backoff, add with afterMs (invariants 4, 5) ──────────────────────

describe("WorkQueue › timers", () => {
  it("WorkQueue › an add while a key backs off does not cut the backoff short, and runs once", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ backoff: { baseMs: 1_000, maxMs: 1_000 } }));
    const t0 = Date.now();
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    await tick(100);
    q.add("a", { priority: 1 });
    q.add("a", { afterMs: 10 });
    await tick(300);
    expect(w.calls).toHaveLength(1);
    await tick(100);
    await advanceUntil(() => w.calls.length === 2, "run 2");
    expect(w.last("a").at - t0).toBe(500);
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.calls).toHaveLength(2);
  });

  it("WorkQueue › an add during a run that then backs off is absorbed into the backoff", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ backoff: { baseMs: 1_000, maxMs: 1_000 } }));
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    q.add("a");
    w.last("a").result.resolve(retry());
    await tick(499);
    expect(w.calls).toHaveLength(1);
    await tick(1);
    await advanceUntil(() => w.calls.length === 2, "run 2");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(w.calls).toHaveLength(2);
  });

  it("WorkQueue › add with afterMs runs the key after the delay; the earliest request per key wins", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    const t0 = Date.now();
    q.add("a", { afterMs: 1_000 });
    q.add("a", { afterMs: 300 });
    q.add("a", { afterMs: 2_000 });
    expect(q.backingOff).toBe(1);
    await tick(299);
    expect(w.calls).toHaveLength(0);
    await tick(1);
    await advanceUntil(() => w.calls.length === 1, "run");
    expect(w.last("a").at - t0).toBe(300);
    w.last("a").result.resolve(DONE);
    await tick(5_000);
    expect(w.calls).toHaveLength(1);
  });

  it("WorkQueue › add with afterMs from onGiveUp (the engine's re-check of a stuck job) runs the key once, fresh, after the delay", async () => {
    const w = manualWorker();
    const q: WorkQueue = new WorkQueue(w.fn, options({ maxAttempts: 1, onGiveUp: (key) => q.add(key, { afterMs: 1_000 }) }));
    const t0 = Date.now();
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    await tick();
    expect(q.stats()).toMatchObject({ givenUp: 1, running: 0, backingOff: 1 });
    expect(q.isBusy("a")).toBe(true);
    await advanceUntil(() => w.calls.length === 2, "the re-check");
    expect(w.last("a").at - t0).toBe(1_000);
    expect(w.last("a").ctx.attempt).toBe(1);
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    await tick(5_000);
    expect(w.calls).toHaveLength(2);
  });

  it("WorkQueue › an immediate add supersedes a pending add with afterMs", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a", { afterMs: 1_000 });
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run");
    expect(q.backingOff).toBe(0);
    w.last("a").result.resolve(DONE);
    await tick(5_000);
    expect(w.calls).toHaveLength(1);
  });

  it("WorkQueue › isBusy holds while a key is queued, running or backing off, and not after", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    expect(q.isBusy("a")).toBe(false);
    q.add("a");
    expect(q.isBusy("a")).toBe(true);
    await advanceUntil(() => w.calls.length === 1, "run 1");
    expect(q.isBusy("a")).toBe(true);
    w.last("a").result.resolve(retry());
    await tick();
    expect(q.stats().backingOff).toBe(1);
    expect(q.isBusy("a")).toBe(true);
    await advanceUntil(() => w.calls.length === 2, "run 2");
    w.last("a").result.resolve(DONE);
    await q.onIdle();
    expect(q.isBusy("a")).toBe(false);
  });

  it("WorkQueue › onIdle waits for timers too, not only for queued and running keys", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options({ backoff: { baseMs: 2_000, maxMs: 2_000 } }));
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "run 1");
    w.last("a").result.resolve(retry());
    const idle = settledFlag(q.onIdle());
    await tick();
    expect(idle.done).toBe(false);
    expect(q.stats()).toMatchObject({ queued: 0, running: 0, backingOff: 1 });
    await tick(1_000);
    await advanceUntil(() => w.calls.length === 2, "run 2");
    expect(idle.done).toBe(false);
    w.last("a").result.resolve(DONE);
    await advanceUntil(() => idle.done, "idle");
  });
});

// ── Outage gating (invariant 7) ─────────────────────────────────────────────────────────

describe("WorkQueue › outage", () => {
  /** A backend that is down until `up()`; each call takes 10 ms. */
  function outageHarness(concurrency: number, overrides: Partial<WorkQueueOptions> = {}) {
    let down = true;
    let inFlight = 0;
    const calls: Array<{ key: string; attempt: number; whileDown: boolean; othersInFlight: number; ok: boolean }> = [];
    const states: boolean[] = [];
    let maxInFlightAfterRecovery = 0;
    let recovered = false;
    let q: WorkQueue;
    const worker = async (key: string, ctx: WorkContext): Promise<WorkResult> => {
      const call = { key, attempt: ctx.attempt, whileDown: q.backendDown, othersInFlight: inFlight, ok: false };
      calls.push(call);
      inFlight += 1;
      if (recovered) maxInFlightAfterRecovery = Math.max(maxInFlightAfterRecovery, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight -= 1;
      if (down) return { kind: "retry", error: new BackendDownError("ECONNREFUSED") };
      call.ok = true;
      return DONE;
    };
    q = new WorkQueue(
      worker,
      options({
        concurrency,
        backoff: { baseMs: 1_000, maxMs: 4_000 },
        maxAttempts: 100,
        maxRetryMs: 3_600_000,
        isBackendDown: (e) => e instanceof BackendDownError,
        onBackendStateChange: (d) => states.push(d),
        ...overrides,
      }),
    );
    return {
      q,
      calls,
      states,
      up: () => {
        down = false;
        recovered = true;
      },
      get maxInFlightAfterRecovery() {
        return maxInFlightAfterRecovery;
      },
    };
  }

  it("WorkQueue › while the backend is down, one probe at a time runs, then recovery releases everything", async () => {
    const h = outageHarness(4);
    const keys = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    for (const k of keys) h.q.add(k);
    await tick(10); // the first four runs (started before anyone knew) fail together
    expect(h.q.backendDown).toBe(true);
    expect(h.states).toEqual([true]);
    const stragglers = h.calls.length;
    expect(stragglers).toBe(4);

    await tick(20_000);
    const duringOutage = h.calls.length;
    // Probe delays with random 0.5: 500, 1,000, 2,000, 2,000, ... ms after each failure, and
    // each probe takes 10 ms. The outage began at 10 ms: probes at 510, 1,520, 3,530, 5,540,
    // ..., 19,610 → 11 probes in 20 s, where per-key retries would have made hundreds of calls.
    expect(duringOutage - stragglers).toBe(11);
    const probes = h.calls.slice(stragglers);
    expect(probes.every((c) => c.whileDown && c.othersInFlight === 0)).toBe(true);
    // A failed probe goes behind the others: ten different keys probed, not one key ten times.
    expect(new Set(probes.map((c) => c.key)).size).toBe(11);
    expect(h.q.stats()).toMatchObject({ running: 0, backingOff: 0, queued: 50 });

    h.up();
    await tick(2_010); // the next probe succeeds
    expect(h.q.backendDown).toBe(false);
    expect(h.states).toEqual([true, false]);
    await vi.runAllTimersAsync();
    await h.q.onIdle();

    const successes = h.calls.filter((c) => c.ok);
    expect(successes.map((c) => c.key).sort()).toEqual([...keys].sort());
    expect(h.calls.length - successes.length).toBe(duringOutage);
    expect(h.maxInFlightAfterRecovery).toBe(4);
    // Keys that waited out the outage in the queue spent no attempts.
    const ranDuringOutage = new Set(h.calls.slice(0, duringOutage).map((c) => c.key));
    const waited = successes.filter((c) => !ranDuringOutage.has(c.key));
    expect(waited.length).toBe(35);
    expect(waited.every((c) => c.attempt === 1)).toBe(true);
  });

  it("WorkQueue › a probe that fails for another reason ends the outage", async () => {
    let mode: "down" | "other" | "ok" = "down";
    const states: boolean[] = [];
    const q = new WorkQueue(
      async () => {
        if (mode === "down") return { kind: "retry", error: new BackendDownError("503") };
        if (mode === "other") return { kind: "retry", error: new Error("file changed during upload") };
        return DONE;
      },
      options({
        concurrency: 3,
        isBackendDown: (e) => e instanceof BackendDownError,
        onBackendStateChange: (d) => states.push(d),
      }),
    );
    q.add("a");
    await tick();
    expect(q.backendDown).toBe(true);
    mode = "other";
    await advanceUntil(() => !q.backendDown, "the probe ends the outage");
    expect(states).toEqual([true, false]);
    expect(q.stats()).toMatchObject({ retried: 2, backingOff: 1 }); // on its own backoff now
    mode = "ok";
    await vi.runAllTimersAsync();
    await q.onIdle();
    expect(q.stats()).toMatchObject({ done: 1 });
  });

  it("WorkQueue › one key that always looks like an outage cannot hold the others back, and is never given up for it", async () => {
    const done: string[] = [];
    const attempts: number[] = [];
    const onGiveUp = vi.fn();
    const q = new WorkQueue(
      async (key, ctx) => {
        if (key === "poison") {
          attempts.push(ctx.attempt);
          return { kind: "retry", error: new BackendDownError("looks like an outage") };
        }
        done.push(key);
        return DONE;
      },
      options({ concurrency: 1, maxAttempts: 3, probeMaxMs: 1_000, isBackendDown: (e) => e instanceof BackendDownError, onGiveUp }),
    );
    q.add("poison");
    for (const k of ["a", "b", "c", "d"]) q.add(k);
    await tick(60_000);
    expect(done.sort()).toEqual(["a", "b", "c", "d"]);
    // An outage costs no attempt, so the limit of 3 is never reached; with probes at most
    // 1 s apart, the key was tried about once a second.
    expect(onGiveUp).not.toHaveBeenCalled();
    expect(attempts.every((a) => a === 1)).toBe(true);
    expect(attempts.length).toBeGreaterThan(50);
    expect(q.backendDown).toBe(true);
    await q.close({ deadlineMs: 0 });
  });

  it("WorkQueue › an asynchronous classifier decides, and the probe pause never exceeds probeMaxMs", async () => {
    let down = true;
    const starts: number[] = [];
    const q = new WorkQueue(
      async () => {
        starts.push(Date.now());
        return down ? { kind: "retry", error: new BackendDownError("paused") } : DONE;
      },
      options({
        concurrency: 2,
        backoff: { baseMs: 1_000, maxMs: 60_000 },
        probeMaxMs: 5_000,
        isBackendDown: async (e) => {
          await new Promise((r) => setTimeout(r, 5));
          return e instanceof BackendDownError;
        },
      }),
    );
    q.add("a");
    await tick(10 * 60_000);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5_000 + 5);
    down = false;
    await tick(5_010);
    await q.onIdle();
    expect(q.backendDown).toBe(false);
    expect(q.stats().done).toBe(1);
  });

  it("WorkQueue › a classifier that throws treats the error as the key's own", async () => {
    let calls = 0;
    const q = new WorkQueue(
      async () => (++calls < 2 ? retry("odd error") : DONE),
      options({
        concurrency: 2,
        isBackendDown: () => {
          throw new Error("classifier bug");
        },
      }),
    );
    q.add("a");
    await tick();
    expect(q.backendDown).toBe(false);
    expect(q.backingOff).toBe(1);
    await vi.runAllTimersAsync();
    expect(q.stats()).toMatchObject({ done: 1, retried: 1 });
  });

  it("WorkQueue › a key whose backoff ends during an outage waits for the probe instead of running", async () => {
    const w = manualWorker();
    const q = new WorkQueue(
      w.fn,
      options({
        concurrency: 2,
        backoff: { baseMs: 1_000, maxMs: 1_000 },
        isBackendDown: (e) => e instanceof BackendDownError,
      }),
    );
    q.add("flaky");
    q.add("probe");
    await advanceUntil(() => w.calls.length === 2, "both start");
    w.last("flaky").result.resolve(retry("checksum mismatch")); // own backoff: 500 ms
    await tick();
    w.last("probe").result.resolve({ kind: "retry", error: new BackendDownError("down") }); // probe in 500 ms
    await tick();
    expect(q.backendDown).toBe(true);
    await tick(500);
    // Both timers have fired, yet only one run is in flight.
    await advanceUntil(() => w.calls.length === 3, "one probe");
    await tick(100);
    expect(w.calls).toHaveLength(3);
    expect(q.stats()).toMatchObject({ running: 1, queued: 1 });
    w.calls[2]!.result.resolve(DONE);
    await advanceUntil(() => w.calls.length === 4, "release");
    expect(q.backendDown).toBe(false);
  });
});

// ── Close (invariant 8) ─────────────────────────────────────────────────────────────────

describe("WorkQueue › close", () => {
  it("WorkQueue › close waits for in-flight runs, aborts them after the deadline, clears timers, lists what was left", async () => {
    const w = manualWorker();
    const onGiveUp = vi.fn();
    const q = new WorkQueue(w.fn, options({ concurrency: 2, maxAttempts: 1, onGiveUp }));
    q.add("waiting");
    await advanceUntil(() => w.calls.length === 1, "waiting runs");
    w.last("waiting").result.resolve({ kind: "wait", afterMs: 5_000 });
    await tick();
    q.add("slow");
    q.add("quick");
    q.add("queued-1");
    q.add("queued-2");
    await advanceUntil(() => w.calls.length === 3, "slow and quick run");
    const slow = w.last("slow");
    slow.ctx.signal.addEventListener("abort", () => slow.result.reject(slow.ctx.signal.reason));

    const closing = q.close({ deadlineMs: 1_000 });
    const closed = settledFlag(closing);
    q.add("late");
    await tick(100);
    w.last("quick").result.resolve(DONE);
    await tick(899);
    expect(closed.done).toBe(false);
    expect(slow.ctx.signal.aborted).toBe(false);
    await tick(1);
    const { abandoned } = await closing;
    expect(slow.ctx.signal.aborted).toBe(true);
    expect(abandoned.sort()).toEqual(["queued-1", "queued-2", "slow", "waiting"]);
    expect(w.keys().sort()).toEqual(["quick", "slow", "waiting"]);
    // The aborted run was its last allowed attempt, but shutting down is not a reason for a marker.
    expect(onGiveUp).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    await expect(q.onIdle()).resolves.toBeUndefined();
    expect(q.close({ deadlineMs: 1 })).toBe(closing);
  });

  it("WorkQueue › close resolves without aborting when runs finish before the deadline", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "a runs");
    const closing = q.close({ deadlineMs: 10_000 });
    await tick(5);
    w.last("a").result.resolve(DONE);
    await expect(closing).resolves.toEqual({ abandoned: [] });
    expect(w.last("a").ctx.signal.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("WorkQueue › a run that wants a re-run while closing is reported, not re-run", async () => {
    const w = manualWorker();
    const q = new WorkQueue(w.fn, options());
    q.add("a");
    await advanceUntil(() => w.calls.length === 1, "a runs");
    q.add("a");
    const closing = q.close({ deadlineMs: 10_000 });
    w.last("a").result.resolve(DONE);
    await expect(closing).resolves.toEqual({ abandoned: ["a"] });
    await tick(1_000);
    expect(w.calls).toHaveLength(1);
  });

  it("WorkQueue › close clears the outage probe timer", async () => {
    const q = new WorkQueue(
      async () => ({ kind: "retry", error: new BackendDownError("down") }),
      options({ isBackendDown: (e) => e instanceof BackendDownError }),
    );
    q.add("a");
    q.add("b");
    await tick();
    expect(q.backendDown).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    const { abandoned } = await q.close({ deadlineMs: 0 });
    expect(abandoned.sort()).toEqual(["a", "b"]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

// ── Options ─────────────────────────────────────────────────────────────────────────────

describe("WorkQueue › options", () => {
  it("WorkQueue › refuses options out of range with what was expected and what arrived", () => {
    expect(() => new WorkQueue(async () => DONE, options({ concurrency: 0 }))).toThrow(
      "Expected `concurrency` to be an integer >= 1, got `0`",
    );
    expect(() => new WorkQueue(async () => DONE, options({ maxAttempts: 1.5 }))).toThrow(
      "Expected `maxAttempts` to be an integer >= 1, got `1.5`",
    );
    expect(() => new WorkQueue(async () => DONE, options({ backoff: { baseMs: 10, maxMs: 5 } }))).toThrow(
      "Expected `backoff.maxMs` to be a finite number >= backoff.baseMs (10), got `5`",
    );
  });

  it("WorkQueue › add refuses a delay or a priority out of range with what was expected and what arrived", () => {
    const q = new WorkQueue(async () => DONE, options());
    expect(() => q.add("a", { afterMs: -1 })).toThrow("Expected `afterMs` for `a` to be a finite number >= 0, got `-1`");
    expect(() => q.add("a", { afterMs: Number.NaN })).toThrow("Expected `afterMs` for `a` to be a finite number >= 0, got `NaN`");
    expect(() => q.add("a", { priority: Number.POSITIVE_INFINITY })).toThrow(
      "Expected `priority` for `a` to be a finite number, got `Infinity`",
    );
    expect(q.isBusy("a")).toBe(false);
  });
});
