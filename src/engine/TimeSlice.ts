/**
 * Cooperative slicing of a long synchronous pass (the start-up's triage, the rescan's stats):
 * the pass asks `due()` between two items (a clock read, 87 ns measured here) and, when its slice of
 * the event loop is used up, awaits `yield()`, which lets I/O callbacks, timers and other work
 * run before it goes on. By time, not by count, so a slow disk or a loaded machine does not
 * make the slices longer.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { PASS_SLICE_MS } from "../timing.js";

export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = PASS_SLICE_MS) {}

  due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  async yield(): Promise<void> {
    await nextTurn();
    this.started = performance.now();
  }
}
