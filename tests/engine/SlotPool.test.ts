import { describe, expect, it } from "vitest";
import { SlotPool, type StartFn } from "../../src/engine/SlotPool.js";

/** Starts that record themselves and run until the test ends them. */
function recorder() {
  const started: Array<{ key: string; ticketed: boolean }> = [];
  const ends = new Map<string, () => void>();
  const start =
    (key: string): StartFn =>
    (ticketed) => {
      started.push({ key, ticketed });
      return new Promise<void>((resolve) => ends.set(key, resolve));
    };
  return {
    started,
    keys: () => started.map((s) => s.key),
    push: (pool: SlotPool, key: string, priority = 0) => pool.push(key, priority, start(key)),
    end: (key: string) => ends.get(key)!(),
  };
}

/** Lets every queued promise callback and microtask run (no time passes). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const noError = (key: string, error: unknown) => {
  throw new Error(`unexpected error from ${key}: ${String(error)}`);
};

describe("SlotPool", () => {
  it("SlotPool › starts nothing synchronously, then by priority and in order within one, in at most `slots` slots", async () => {
    const pool = new SlotPool(2, noError);
    const r = recorder();
    for (const [key, priority] of [
      ["a", 0],
      ["b", 0],
      ["c", 1],
      ["d", 0],
    ] as const)
      r.push(pool, key, priority);
    expect(r.keys()).toEqual([]);
    await settle();
    expect(r.keys()).toEqual(["c", "a"]);
    r.end("c");
    await settle();
    expect(r.keys()).toEqual(["c", "a", "b"]);
    r.end("a");
    await settle();
    expect(r.keys()).toEqual(["c", "a", "b", "d"]);
    expect(r.started.every((s) => !s.ticketed)).toBe(true);
  });

  it("SlotPool › setPriority moves a key up, pushed in this tick or queued before", async () => {
    const pool = new SlotPool(1, noError);
    const r = recorder();
    r.push(pool, "blocker");
    await settle();
    r.push(pool, "x");
    r.push(pool, "y");
    await settle();
    r.push(pool, "z");
    pool.setPriority("z", 2);
    pool.setPriority("y", 1);
    await settle();
    for (const key of ["blocker", "z", "y"]) {
      r.end(key);
      await settle();
    }
    expect(r.keys()).toEqual(["blocker", "z", "y", "x"]);
  });

  it("SlotPool › gated: nothing starts until admitOne, then one run, told it took the ticket; open starts the rest", async () => {
    const pool = new SlotPool(3, noError);
    const r = recorder();
    pool.gate();
    for (const key of ["a", "b", "c", "d"]) r.push(pool, key);
    await settle();
    expect(r.keys()).toEqual([]);
    pool.admitOne();
    await settle();
    r.end("a");
    await settle();
    expect(r.started).toEqual([{ key: "a", ticketed: true }]); // the ticket is used up
    pool.admitOne();
    await settle();
    pool.open();
    await settle();
    expect(r.started).toEqual([
      { key: "a", ticketed: true },
      { key: "b", ticketed: true },
      { key: "c", ticketed: false },
      { key: "d", ticketed: false },
    ]);
  });

  it("SlotPool › a ticket waits for the run in flight to end, and for a key when none is queued", async () => {
    const pool = new SlotPool(2, noError);
    const r = recorder();
    r.push(pool, "straggler");
    await settle();
    pool.gate();
    pool.admitOne();
    r.push(pool, "a");
    await settle();
    expect(r.keys()).toEqual(["straggler"]);
    r.end("straggler");
    await settle();
    expect(r.started.at(-1)).toEqual({ key: "a", ticketed: true });
    r.end("a");
    await settle();
    pool.admitOne();
    await settle();
    r.push(pool, "b");
    r.push(pool, "c");
    await settle();
    r.end("b");
    await settle();
    expect(r.keys()).toEqual(["straggler", "a", "b"]);
  });

  it("SlotPool › close drops queued keys and starts nothing more; the run in flight goes on", async () => {
    const pool = new SlotPool(1, noError);
    const r = recorder();
    r.push(pool, "a");
    r.push(pool, "b");
    await settle();
    r.push(pool, "c");
    pool.close();
    r.push(pool, "d");
    r.end("a");
    await settle();
    expect(r.keys()).toEqual(["a"]);
  });

  it("SlotPool › a start that rejects is reported with its key, and frees its slot", async () => {
    const errors: Array<[string, unknown]> = [];
    const pool = new SlotPool(1, (key, error) => errors.push([key, error]));
    const r = recorder();
    pool.push("bug", 0, () => Promise.reject(new Error("bug")));
    r.push(pool, "next");
    await settle();
    expect(errors).toEqual([["bug", new Error("bug")]]);
    expect(r.keys()).toEqual(["next"]);
  });
});
