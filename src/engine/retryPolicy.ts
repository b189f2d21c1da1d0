/**
 * What happens to a key after a transient failure, as a pure function (client-go's rate
 * limiter, without its state): the key's failure history and the failure in; "retry after n ms",
 * "give up" or "hold for the backend" out. It owns no timers and no history: the work queue keeps
 * each key's history and acts on the decision.
 *
 * Why an outage is apart: when the backend as a whole is down, the failure says nothing about
 * the key. It costs no attempt and no time against the limits, however long the outage lasts
 * (a deployment paused for an hour must not make every job give up); the outage gate, not a
 * backoff, decides when the key runs again (OutageGate.ts).
 */
import { type BackoffOptions, backoffDelay } from "./backoff.js";

export type RetryOptions = {
  /** Exponential backoff with full jitter between transient attempts. */
  backoff: BackoffOptions;
  /** Runs in one streak of transient failures before giving up. */
  maxAttempts: number;
  /** Time since the streak's first failure after which the next failure gives up. */
  maxRetryMs: number;
};

/** A key's current streak of transient failures. */
export type FailureHistory = {
  /** Failures in a row. */
  readonly failures: number;
  /** When the first of them happened (epoch ms). */
  readonly firstFailureAt: number;
};

export type Failure = {
  /** When the run failed (epoch ms). */
  at: number;
  /** The least wait the server asked for (`Retry-After`), if it did. */
  afterMs?: number | undefined;
  /** The backend as a whole is unreachable, not just this key's request. */
  backendDown: boolean;
};

export type RetryDecision =
  /** Run again in `afterMs`; `history` is the key's history from now on. */
  | { kind: "retry"; afterMs: number; history: FailureHistory }
  /** Stop retrying: `attempts` runs in a row failed. */
  | { kind: "give-up"; attempts: number }
  /** The backend is down: queue the key behind the outage gate; its history stays as it was. */
  | { kind: "hold" };

/**
 * Decide after `failure` of a key whose streak so far is `history` (undefined: none). The
 * server's `afterMs` is a floor under the backoff. `random` is drawn only for a retry.
 */
export function retryPolicy(
  history: FailureHistory | undefined,
  failure: Failure,
  options: RetryOptions,
  random: () => number = Math.random,
): RetryDecision {
  if (failure.backendDown) return { kind: "hold" };
  const failures = (history?.failures ?? 0) + 1;
  const firstFailureAt = history?.firstFailureAt ?? failure.at;
  if (failures >= options.maxAttempts || failure.at - firstFailureAt > options.maxRetryMs) {
    return { kind: "give-up", attempts: failures };
  }
  const afterMs = Math.max(failure.afterMs ?? 0, backoffDelay(failures, options.backoff, random));
  return { kind: "retry", afterMs, history: { failures, firstFailureAt } };
}
