import { describe, expect, it, vi } from "vitest";
import { type Failure, type FailureHistory, type RetryDecision, retryPolicy, type RetryOptions } from "../../src/engine/retryPolicy.js";

const OPTIONS: RetryOptions = { backoff: { baseMs: 100, maxMs: 1_000 }, maxAttempts: 6, maxRetryMs: 10_000 };
const T0 = 1_700_000_000_000;
const streak = (failures: number): FailureHistory => ({ failures, firstFailureAt: T0 });

type Row = {
  name: string;
  history: FailureHistory | undefined;
  failure: Partial<Failure>;
  options?: Partial<RetryOptions>;
  expected: RetryDecision;
};

// random 0.5 throughout: half of each window (100, 200, 400, 800, then 1,000 ms).
const ROWS: Row[] = [
  {
    name: "a first failure retries after the first window and starts the streak",
    history: undefined,
    failure: { at: T0 },
    expected: { kind: "retry", afterMs: 50, history: streak(1) },
  },
  {
    name: "a second failure doubles the window and keeps when the streak began",
    history: streak(1),
    failure: { at: T0 + 50 },
    expected: { kind: "retry", afterMs: 100, history: streak(2) },
  },
  {
    name: "the window stops doubling at backoff.maxMs",
    history: streak(4),
    failure: { at: T0 + 1_500 },
    expected: { kind: "retry", afterMs: 500, history: streak(5) },
  },
  {
    name: "the server's afterMs is a floor above the backoff",
    history: undefined,
    failure: { at: T0, afterMs: 5_000 },
    expected: { kind: "retry", afterMs: 5_000, history: streak(1) },
  },
  {
    name: "a server's afterMs below the backoff changes nothing",
    history: undefined,
    failure: { at: T0, afterMs: 10 },
    expected: { kind: "retry", afterMs: 50, history: streak(1) },
  },
  {
    name: "the maxAttempts-th failure gives up",
    history: streak(5),
    failure: { at: T0 + 2_000 },
    expected: { kind: "give-up", attempts: 6 },
  },
  {
    name: "with maxAttempts 1 the first failure gives up",
    history: undefined,
    failure: { at: T0 },
    options: { maxAttempts: 1 },
    expected: { kind: "give-up", attempts: 1 },
  },
  {
    name: "a failure exactly maxRetryMs after the first still retries",
    history: streak(1),
    failure: { at: T0 + 10_000 },
    expected: { kind: "retry", afterMs: 100, history: streak(2) },
  },
  {
    name: "a failure more than maxRetryMs after the first gives up, whatever the attempts left",
    history: streak(1),
    failure: { at: T0 + 10_001 },
    expected: { kind: "give-up", attempts: 2 },
  },
  {
    name: "the backend down holds the key, even one failure short of the limit",
    history: streak(5),
    failure: { at: T0 + 3_600_000, backendDown: true },
    expected: { kind: "hold" },
  },
  {
    name: "the backend down on a first failure holds it without starting a streak",
    history: undefined,
    failure: { at: T0, backendDown: true, afterMs: 2_000 },
    expected: { kind: "hold" },
  },
];

describe("retryPolicy", () => {
  it.each(ROWS)("retryPolicy › $name", ({ history, failure, options, expected }) => {
    const decision = retryPolicy(history, { at: T0, backendDown: false, ...failure }, { ...OPTIONS, ...options }, () => 0.5);
    expect(decision).toEqual(expected);
  });

  it.each([
    [0, 0],
    [0.99, 99],
  ])("retryPolicy › the jitter comes from the random source: %s waits %s ms of a 100 ms window", (random, afterMs) => {
    expect(retryPolicy(undefined, { at: T0, backendDown: false }, OPTIONS, () => random)).toMatchObject({ afterMs });
  });

  it("retryPolicy › draws no random number when it gives up or holds, and leaves the history it is given as it was", () => {
    const random = vi.fn(() => 0.5);
    const history = Object.freeze(streak(5));
    expect(retryPolicy(history, { at: T0, backendDown: false }, OPTIONS, random).kind).toBe("give-up");
    expect(retryPolicy(history, { at: T0, backendDown: true }, OPTIONS, random).kind).toBe("hold");
    expect(random).not.toHaveBeenCalled();
    expect(history).toEqual(streak(5));
  });
});
