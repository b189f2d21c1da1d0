import { describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/engine/ByteBudget.js";

/** Lets pending promise callbacks run, then says whether `p` has settled. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe("ByteBudget", () => {
  it("ByteBudget › admits requests that fit at once", async () => {
    const budget = new ByteBudget(100);
    await budget.acquire(60);
    await budget.acquire(40);
    expect(budget.inFlight).toBe(100);
  });

  it("ByteBudget › blocks a request while the budget is full and admits it on release", async () => {
    const budget = new ByteBudget(100);
    const release = await budget.acquire(80);
    const second = budget.acquire(30);
    expect(await settled(second)).toBe(false);
    expect(budget.waiting).toBe(1);
    release();
    expect(await settled(second)).toBe(true);
    expect(budget.inFlight).toBe(30);
  });

  it("ByteBudget › admits in FIFO order: a small request does not overtake a large one", async () => {
    const budget = new ByteBudget(100);
    const releaseFirst = await budget.acquire(50);
    const order: string[] = [];
    const large = budget.acquire(80).then((r) => {
      order.push("large");
      return r;
    });
    const small = budget.acquire(10).then((r) => {
      order.push("small");
      return r;
    });
    // 10 would fit next to 50, but the 80 ahead of it is waiting.
    expect(await settled(small)).toBe(false);
    releaseFirst();
    await large;
    await small;
    expect(order).toEqual(["large", "small"]);
  });

  it("ByteBudget › admits a request larger than the budget alone, once nothing is in flight", async () => {
    const budget = new ByteBudget(100);
    const releaseSmall = await budget.acquire(1);
    const huge = budget.acquire(500);
    expect(await settled(huge)).toBe(false);
    releaseSmall();
    const releaseHuge = await huge;
    expect(budget.inFlight).toBe(500);
    const next = budget.acquire(1);
    expect(await settled(next)).toBe(false);
    releaseHuge();
    expect(await settled(next)).toBe(true);
  });

  it("ByteBudget › release is idempotent", async () => {
    const budget = new ByteBudget(100);
    const release = await budget.acquire(60);
    const other = await budget.acquire(40);
    release();
    release();
    expect(budget.inFlight).toBe(40);
    const blocked = budget.acquire(70);
    expect(await settled(blocked)).toBe(false);
    other();
    expect(await settled(blocked)).toBe(true);
  });

  it("ByteBudget › an aborted waiter rejects with the signal's reason and leaves the line", async () => {
    const budget = new ByteBudget(100);
    const release = await budget.acquire(90);
    const controller = new AbortController();
    const aborted = budget.acquire(50, controller.signal);
    const behind = budget.acquire(10);
    expect(await settled(behind)).toBe(false);
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    // The aborted head no longer blocks the request behind it, which fits next to the 90.
    expect(await settled(behind)).toBe(true);
    expect(budget.inFlight).toBe(100);
    release();
    expect(budget.inFlight).toBe(10);
  });

  it("ByteBudget › rejects at once when the signal is already aborted", async () => {
    const budget = new ByteBudget(100);
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(budget.acquire(1, controller.signal)).rejects.toThrow("gone");
    expect(budget.inFlight).toBe(0);
  });

  it("ByteBudget › refuses a negative size and a non-positive budget", async () => {
    await expect(new ByteBudget(10).acquire(-1)).rejects.toThrow("Expected `bytes` to be a finite number >= 0, got `-1`");
    expect(() => new ByteBudget(0)).toThrow("Expected `maxBytesInFlight` to be a finite number > 0, got `0`");
  });
});
