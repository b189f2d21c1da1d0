import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/engine/backoff.js";

const opts = { baseMs: 100, maxMs: 10_000 };

describe("backoffDelay", () => {
  it.each([
    // attempt, random, expected: floor(random * min(maxMs, baseMs * 2^(attempt-1)))
    { attempt: 1, random: 0.5, expected: 50 },
    { attempt: 2, random: 0.5, expected: 100 },
    { attempt: 3, random: 0.5, expected: 200 },
    { attempt: 7, random: 0.5, expected: 3_200 },
    { attempt: 8, random: 0.5, expected: 5_000 }, // 12_800 capped at 10_000
    { attempt: 50, random: 0.5, expected: 5_000 },
    { attempt: 5_000, random: 0.5, expected: 5_000 }, // 2^4999 overflows; still the cap
    { attempt: 1, random: 0, expected: 0 }, // full jitter reaches down to zero
    { attempt: 3, random: 0.999_999, expected: 399 }, // and stays below the window
    { attempt: 3, random: 1, expected: 399 }, // a bad random source cannot reach the window
    { attempt: 3, random: -0.5, expected: 0 },
    { attempt: 3, random: Number.NaN, expected: 0 },
  ])("backoffDelay › attempt $attempt with random $random waits $expected ms", ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, opts, () => random)).toBe(expected);
  });

  it("backoffDelay › a zero base never waits, however many attempts", () => {
    expect(backoffDelay(2_000, { baseMs: 0, maxMs: 0 }, () => 0.9)).toBe(0);
    expect(backoffDelay(2_000, { baseMs: 0, maxMs: 1_000 }, () => 0.9)).toBe(0);
  });

  it("backoffDelay › stays an integer in [0, window) for any input", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, extra, r) => {
          const maxMs = baseMs + extra;
          const window = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 1023));
          const d = backoffDelay(attempt, { baseMs, maxMs }, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.max(1, window));
        },
      ),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])("backoffDelay › refuses attempt %s", (attempt) => {
    expect(() => backoffDelay(attempt, opts)).toThrow(/Expected `attempt` to be an integer >= 1/);
  });

  it("backoffDelay › refuses a maxMs below baseMs", () => {
    expect(() => backoffDelay(1, { baseMs: 100, maxMs: 50 })).toThrow(
      /Expected `backoff.maxMs` to be a finite number >= baseMs \(100\), got `50`/,
    );
  });
});
