import { describe, expect, it } from "vitest";
import { KeyedQueue, type Run } from "../../src/engine/KeyedQueue.js";
import type { StartFn } from "../../src/engine/SlotPool.js";

/** Slots the test drives: pushes are recorded, and `start` hands a queued key its slot. */
function fakeSlots() {
  const queued = new Map<string, StartFn>();
  const pushes: Array<[string, number]> = [];
  const moves: Array<[string, number]> = [];
  return {
    pushes,
    moves,
    push: (key: string, priority: number, start: StartFn) => {
      pushes.push([key, priority]);
      queued.set(key, start);
    },
    setPriority: (key: string, priority: number) => void moves.push([key, priority]),
    start: (key: string, ticketed = false) => {
      const start = queued.get(key)!;
      queued.delete(key);
      return start(ticketed);
    },
  };
}

/** A keyed queue whose runs last until the test ends them. */
function harness() {
  const slots = fakeSlots();
  const ends = new Map<string, () => void>();
  const q = new KeyedQueue(slots, (key) => new Promise<void>((resolve) => ends.set(key, resolve)));
  return { q, slots, end: (key: string) => ends.get(key)!() };
}

describe("KeyedQueue", () => {
  it("KeyedQueue › any number of adds of a queued key push it once", () => {
    const { q, slots } = harness();
    expect(q.add("a")).toBe(true);
    for (let i = 0; i < 100; i++) expect(q.add("a")).toBe(false);
    expect(slots.pushes).toEqual([["a", 0]]);
    expect(q.queued).toBe(1);
    expect(q.isQueued("a")).toBe(true);
  });

  it("KeyedQueue › an add while running marks the key once; done queues it again, or clears the mark when told", () => {
    const { q, slots } = harness();
    q.add("a");
    q.add("b");
    void slots.start("a");
    void slots.start("b");
    expect(q.running.size).toBe(2);
    expect(q.queued).toBe(0);
    for (let i = 0; i < 10; i++) q.add("a");
    q.add("b");
    expect(slots.pushes).toHaveLength(2); // running keys are never pushed
    expect(q.queued).toBe(0); // dirty but running: not waiting for a slot
    expect(q.done("a", true)).toBe("requeued");
    expect(q.done("b", false)).toBe("dropped");
    expect(slots.pushes.map(([key]) => key)).toEqual(["a", "b", "a"]);
    expect(q.has("b")).toBe(false);
    void slots.start("a");
    expect(q.done("a", true)).toBe("clean");
    expect(q.empty).toBe(true);
  });

  it("KeyedQueue › the run record is in place before the run begins, with its own controller and the probe flag", async () => {
    const slots = fakeSlots();
    const seen: Array<Run | undefined> = [];
    const q: KeyedQueue = new KeyedQueue(slots, async (key, run) => {
      seen.push(q.running.get(key));
      expect(q.add(key)).toBe(false); // the worker adding its own key marks it for a re-run
      expect(run.controller.signal.aborted).toBe(false);
    });
    q.add("a");
    q.add("b");
    const a = slots.start("a", true);
    void slots.start("b");
    const [runA, runB] = seen;
    expect(runA?.probe).toBe(true);
    expect(runB?.probe).toBe(false);
    expect(runA?.controller).not.toBe(runB?.controller);
    const runOfA = q.running.get("a")?.promise;
    await a;
    await expect(runOfA).resolves.toBeUndefined();
    expect(q.done("a", true)).toBe("requeued");
  });

  it("KeyedQueue › a run that gives its slot back frees the slot at once and still counts as running until it ends", async () => {
    const slots = fakeSlots();
    let finish!: () => void;
    const q: KeyedQueue = new KeyedQueue(slots, async (_key, run) => {
      run.releaseSlot();
      run.releaseSlot();
      await new Promise<void>((r) => (finish = r));
    });
    q.add("a");
    const slot = slots.start("a");
    await slot;
    expect(q.running.has("a")).toBe(true);
    expect(q.add("a")).toBe(false); // marked for a re-run, not queued beside the run
    finish();
    await q.running.get("a")?.promise;
    expect(q.done("a", true)).toBe("requeued");
  });

  it("KeyedQueue › raisePriority moves a queued key up, never down, and keeps it for a running key's next push", () => {
    const { q, slots } = harness();
    q.add("a");
    q.raisePriority("a", 2);
    q.raisePriority("a", 1);
    q.raisePriority("a", 0);
    expect(slots.moves).toEqual([["a", 2]]);
    void slots.start("a");
    q.raisePriority("a", 3); // running: nothing to move
    expect(slots.moves).toEqual([["a", 2]]);
    q.add("a");
    q.done("a", true);
    expect(slots.pushes.at(-1)).toEqual(["a", 3]);
    q.forget("a");
    expect(q.priorityOf("a")).toBe(0);
  });

  it("KeyedQueue › dropQueued unmarks the queued keys and leaves running ones to done", () => {
    const { q, slots } = harness();
    q.add("running");
    void slots.start("running");
    q.add("running");
    q.add("queued-1");
    q.add("queued-2");
    expect(q.dropQueued().sort()).toEqual(["queued-1", "queued-2"]);
    expect(q.has("running")).toBe(true);
    expect(q.done("running", false)).toBe("dropped");
    expect(q.empty).toBe(true);
  });
});
