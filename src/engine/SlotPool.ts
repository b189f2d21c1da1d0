/**
 * The slots runs start in, and the order queued keys get them: highest priority first, first
 * come first served within one. p-queue does both underneath; this adapter is the only file
 * that imports it, and the only one that relies on how p-queue behaves inside its start loop.
 * It knows a key only as a task id: not why it is queued, nor what its run does.
 *
 * Two modes, switched by the outage gate:
 * - open: up to `slots` runs at once.
 * - gated: one run at a time, and only with a ticket. `admitOne` hands out one; the next start
 *   takes it, however long that start has to wait (for a run still in flight to end, or for a
 *   key to arrive), and is told it did.
 */
import PQueue from "p-queue";

/** Starts a key's run in its slot; the slot is held until the promise settles. */
export type StartFn = (ticketed: boolean) => Promise<void>;

export class SlotPool {
  readonly #slots: number;
  readonly #pq: PQueue;
  readonly #onError: (key: string, error: unknown) => void;
  /** Keys pushed in this tick, handed to p-queue in one batch (see `#flush`). */
  readonly #batch = new Map<string, { priority: number; start: StartFn }>();
  #flushScheduled = false;
  #gated = false;
  #closed = false;

  /** `onError` hears of a run whose promise rejected (a bug: runs settle their own outcomes). */
  constructor(slots: number, onError: (key: string, error: unknown) => void) {
    this.#slots = slots;
    this.#pq = new PQueue({ concurrency: slots });
    this.#onError = onError;
  }

  /** Queues `key` at `priority`, behind the keys already there. Precondition: it is not queued. */
  push(key: string, priority: number, start: StartFn): void {
    if (this.#closed) return;
    this.#batch.set(key, { priority, start });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /** Moves a queued key to `priority`, behind the keys already there. */
  setPriority(key: string, priority: number): void {
    const pending = this.#batch.get(key);
    if (pending) pending.priority = priority;
    else this.#pq.setPriority(key, priority);
  }

  /** Gated: nothing more starts until `admitOne`. */
  gate(): void {
    this.#gated = true;
    // Pause before lowering concurrency: the setter runs p-queue's start loop.
    this.#pq.pause();
    this.#pq.concurrency = 1;
  }

  /** Gated: one more run may start, now or as soon as a slot and a key are there. */
  admitOne(): void {
    this.#pq.start();
  }

  /** Open again: `slots` runs at once, starting every queued key there is room for. */
  open(): void {
    this.#gated = false;
    this.#pq.concurrency = this.#slots;
    this.#pq.start();
  }

  /** Drops every queued key and starts nothing more; runs in flight go on. */
  close(): void {
    this.#closed = true;
    this.#pq.pause();
    this.#pq.clear();
    this.#batch.clear();
  }

  /**
   * Hands the keys pushed in this tick to p-queue, highest priority first. Batching by
   * microtask keeps `push` from starting a run synchronously (p-queue starts a task inside its
   * `add` when a slot is free), and lets a live key pushed in the same tick as a start-up burst
   * take one of the free slots instead of landing behind the whole burst.
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const batch = [...this.#batch].sort(([, a], [, b]) => b.priority - a.priority);
    this.#batch.clear();
    for (const [key, { priority, start }] of batch) {
      // The task id is the key, so `setPriority` finds a queued key later.
      this.#pq.add(() => this.#start(start), { id: key, priority }).catch((error: unknown) => this.#onError(key, error));
    }
  }

  #start(start: StartFn): Promise<void> {
    const ticketed = this.#gated;
    // Pausing here, inside p-queue's start loop, is what uses the ticket up: no second run
    // starts when this one ends.
    if (ticketed) this.#pq.pause();
    return start(ticketed);
  }
}
