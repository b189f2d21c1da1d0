/**
 * The work queue's per-key timers (client-go's delaying queue), at most one per key, of two
 * kinds:
 * - a floor ("not before"): the backoff after a failure, or a worker's `wait`. Nothing brings it
 *   forward: the periodic rescan adds every key, and would otherwise reset every backoff.
 * - a hint ("in this long"): an `add` with `afterMs`. The earliest hint wins; a floor, or the key
 *   being queued at once, supersedes it.
 *
 * A due timer is dropped, then reported through `onDue`. What a due key means is the queue's;
 * this file owns only the timers.
 *
 * Not unref'd on purpose: a daemon with work owed must stay alive until it is done or the
 * queue's `close` clears the timers.
 */

type KeyTimer = {
  handle: ReturnType<typeof setTimeout>;
  /** Orders hints against each other; the timer itself decides when. */
  dueAt: number;
  floor: boolean;
};

export class KeyTimers {
  readonly #timers = new Map<string, KeyTimer>();
  readonly #onDue: (key: string) => void;
  readonly #now: () => number;

  constructor(onDue: (key: string) => void, now: () => number) {
    this.#onDue = onDue;
    this.#now = now;
  }

  /** Keys waiting on a timer. */
  get size(): number {
    return this.#timers.size;
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }

  /** True while `key` waits on a floor: it must not run before the floor is due. */
  hasFloor(key: string): boolean {
    return this.#timers.get(key)?.floor === true;
  }

  /** A floor for `key` in `delayMs`, replacing any timer it has. */
  setFloor(key: string, delayMs: number): void {
    this.#set(key, delayMs, true);
  }

  /** A hint for `key` in `delayMs`, unless it has a floor or a hint due no later. */
  hint(key: string, delayMs: number): void {
    const existing = this.#timers.get(key);
    if (existing && (existing.floor || existing.dueAt <= this.#now() + delayMs)) return;
    this.#set(key, delayMs, false);
  }

  delete(key: string): void {
    const timer = this.#timers.get(key);
    if (!timer) return;
    clearTimeout(timer.handle);
    this.#timers.delete(key);
  }

  /** Drops every timer; returns the keys that had one. */
  clear(): string[] {
    const keys = [...this.#timers.keys()];
    for (const timer of this.#timers.values()) clearTimeout(timer.handle);
    this.#timers.clear();
    return keys;
  }

  #set(key: string, delayMs: number, floor: boolean): void {
    this.delete(key);
    const handle = setTimeout(() => {
      this.#timers.delete(key);
      this.#onDue(key);
    }, delayMs);
    this.#timers.set(key, { handle, dueAt: this.#now() + delayMs, floor });
  }
}
