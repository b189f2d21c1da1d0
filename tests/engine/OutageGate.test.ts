import type { Logger } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BackendSignal, OutageGate, type OutageGateOptions } from "../../src/engine/OutageGate.js";

const UP: BackendSignal = { kind: "up" };
const NONE: BackendSignal = { kind: "none" };
const down = (afterMs?: number): BackendSignal => ({ kind: "down", afterMs });

/** Slots that record what the gate asks of them, and when (fake time, from the test's start). */
function fakeSlots() {
  const t0 = Date.now();
  const calls: string[] = [];
  const admitted: number[] = [];
  return {
    calls,
    admitted,
    gate: () => void calls.push("gate"),
    admitOne: () => {
      calls.push("admitOne");
      admitted.push(Date.now() - t0);
    },
    open: () => void calls.push("open"),
  };
}

function gateWith(overrides: Partial<OutageGateOptions> = {}) {
  const slots = fakeSlots();
  const changes: boolean[] = [];
  const gate = new OutageGate(slots, {
    probeBackoff: { baseMs: 1_000, maxMs: 4_000 },
    random: () => 0.5,
    onChange: (d) => changes.push(d),
    ...overrides,
  });
  return { gate, slots, changes };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("OutageGate", () => {
  it("OutageGate › a down signal gates the slots, says so once, and admits a probe after the first pause", async () => {
    const { gate, slots, changes } = gateWith();
    gate.report(UP, false);
    gate.report(NONE, false);
    expect(slots.calls).toEqual([]);
    gate.report(down(), false);
    expect(gate.down).toBe(true);
    expect(slots.calls).toEqual(["gate"]);
    expect(changes).toEqual([true]);
    await vi.advanceTimersByTimeAsync(499);
    expect(slots.admitted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(slots.admitted).toEqual([500]);
  });

  it("OutageGate › each failed probe doubles the pause up to its cap; a straggler changes nothing; the server's afterMs is a floor", async () => {
    const { gate, slots, changes } = gateWith();
    gate.report(down(), false);
    await vi.advanceTimersByTimeAsync(500);
    gate.report(down(), true); // probe 1 failed: 1,000 ms window
    gate.report(down(), false); // a straggler: the probe timer is left as it is
    await vi.advanceTimersByTimeAsync(1_000);
    gate.report(down(), true); // 2,000 ms window
    await vi.advanceTimersByTimeAsync(2_000);
    gate.report(down(), true); // capped at 4,000 ms
    await vi.advanceTimersByTimeAsync(2_000);
    gate.report(down(10_000), true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(slots.admitted).toEqual([500, 1_500, 3_500, 5_500, 15_500]);
    expect(slots.calls.filter((c) => c === "gate")).toHaveLength(1);
    expect(changes).toEqual([true]);
  });

  it("OutageGate › an up signal opens the slots, says so once, and leaves no probe behind", async () => {
    const { gate, slots, changes } = gateWith();
    gate.report(down(), false);
    gate.report(NONE, true); // a run that says nothing (shutdown) keeps the outage
    expect(gate.down).toBe(true);
    gate.report(UP, true);
    gate.report(UP, false);
    expect(gate.down).toBe(false);
    expect(slots.calls).toEqual(["gate", "open"]);
    expect(changes).toEqual([true, false]);
    expect(vi.getTimerCount()).toBe(0);
    gate.report(down(), false); // a new outage starts from the first pause again
    await vi.advanceTimersByTimeAsync(500);
    expect(slots.admitted).toEqual([500]);
  });

  it("OutageGate › close clears the probe timer", async () => {
    const { gate, slots } = gateWith();
    gate.report(down(), false);
    gate.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(slots.admitted).toEqual([]);
  });

  it("OutageGate › a listener that throws is logged, and the gate moves all the same", () => {
    const error = vi.fn();
    const log = { error, warn: () => {}, info: () => {} } as unknown as Logger;
    const { gate, slots } = gateWith({
      log,
      onChange: () => {
        throw new Error("listener bug");
      },
    });
    gate.report(down(), false);
    gate.report(UP, false);
    expect(slots.calls).toEqual(["gate", "open"]);
    expect(error).toHaveBeenCalledTimes(2);
    expect(error.mock.calls[0]![1]).toBe("work queue: onBackendStateChange failed");
  });
});
