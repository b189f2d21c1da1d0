/**
 * The retry delay of the work queue: exponential backoff with full jitter. A pure function of
 * the attempt number and a random source, so tests pin it with an injected `random`. It owns no
 * timers and knows nothing about keys or the backend.
 *
 * Full jitter (delay drawn uniformly from [0, cap)) rather than "cap ± a little": when an outage
 * ends, every job that failed during it retries, and spreading them over the whole window is what
 * keeps the recovering backend from being hit by all of them in the same second.
 */

export type BackoffOptions = {
  /** The cap of the first retry's window, in ms. */
  baseMs: number;
  /** The largest window, in ms; the doubling stops here. */
  maxMs: number;
};

/**
 * Milliseconds to wait before retrying after failed attempt number `attempt` (1-based):
 * `floor(random() * min(maxMs, baseMs * 2^(attempt-1)))`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`Expected \`attempt\` to be an integer >= 1, got \`${attempt}\``);
  }
  const { baseMs, maxMs } = options;
  if (!(Number.isFinite(baseMs) && baseMs >= 0)) {
    throw new RangeError(`Expected \`backoff.baseMs\` to be a finite number >= 0, got \`${baseMs}\``);
  }
  if (!(Number.isFinite(maxMs) && maxMs >= baseMs)) {
    throw new RangeError(`Expected \`backoff.maxMs\` to be a finite number >= baseMs (${baseMs}), got \`${maxMs}\``);
  }
  // 2^1023 is the largest finite power of two; past it the window is maxMs anyway, and keeping
  // the product finite avoids 0 * Infinity = NaN when baseMs is 0.
  const window = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 1023));
  const r = random();
  // A random source outside [0, 1) (a bad test double) must not produce a negative or
  // over-cap delay.
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.min(Math.floor(unit * window), Math.max(0, Math.ceil(window) - 1));
}
